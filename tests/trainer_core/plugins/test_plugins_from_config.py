"""Strategy and cluster-environment plugins named in a config (class_path/init_args), as the command line and the
studio pass them."""

from __future__ import annotations

import pytest

import trainer_core as pl
from trainer_core.loading.objects import instantiate_flag_objects
from trainer_core.plugins import DDPPlugin
from trainer_core.plugins.environments import LightningEnvironment


@pytest.mark.parametrize("name", ["DDPPlugin", "trainer_core.plugins.DDPPlugin", "pytorch_lightning.plugins.DDPPlugin"])
def test_plugins_by_name_or_path_build_and_reach_the_trainer(name: str) -> None:
    flags = instantiate_flag_objects({"plugins": [{"class_path": name, "init_args": {"find_unused_parameters": False}},
                                                  "LightningEnvironment"]})
    ddp, environment = flags["plugins"]
    assert isinstance(ddp, DDPPlugin) and isinstance(environment, LightningEnvironment)
    trainer = pl.Trainer(num_processes=2, plugins=flags["plugins"], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False)
    assert trainer.strategy is ddp and not ddp.find_unused_parameters and ddp.cluster_environment is environment
