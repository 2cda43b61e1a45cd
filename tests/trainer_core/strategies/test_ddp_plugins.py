"""DDP settings from 1.x: find_unused_parameters (default True), the *_find_unused_parameters_false names,
strategy objects passed as ``strategy=`` or through ``plugins=``."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import pytest

import trainer_core as pl
from tests.trainer_core.strategies.ddp_models import WithUnusedParameter
from trainer_core.exceptions import MisconfigurationError
from trainer_core.plugins import DataParallelPlugin, DDPPlugin, DDPSpawnPlugin
from trainer_core.strategies import DDPSpawnStrategy, DDPStrategy, SingleDeviceStrategy

QUIET = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)


@pytest.mark.parametrize(("flags", "cls", "unused"), [
    (dict(strategy="ddp_spawn", num_processes=2), DDPSpawnStrategy, True),
    (dict(accelerator="ddp_cpu", num_processes=2), DDPSpawnStrategy, True),
    (dict(strategy="ddp", devices=2, accelerator="cpu"), DDPStrategy, True),
    (dict(strategy="ddp_find_unused_parameters_false", devices=2, accelerator="cpu"), DDPStrategy, False),
    (dict(strategy="ddp_spawn_find_unused_parameters_false", num_processes=2), DDPSpawnStrategy, False),
    (dict(strategy=DDPPlugin(find_unused_parameters=False), num_processes=2), DDPStrategy, False),
    (dict(plugins=[DDPPlugin(find_unused_parameters=False)], num_processes=2), DDPStrategy, False),
    (dict(accelerator="ddp", plugins=DDPPlugin(), num_processes=2), DDPStrategy, True),
    (dict(plugins=[DDPSpawnPlugin(find_unused_parameters=False)], num_processes=2), DDPSpawnStrategy, False),
])
def test_find_unused_parameters_setting(flags: dict, cls: type, unused: bool) -> None:
    with pytest.warns(DeprecationWarning) if flags.get("accelerator") == "ddp_cpu" else nullcontext():
        trainer = pl.Trainer(**flags, **QUIET)
    assert type(trainer.strategy) is cls
    assert trainer.strategy.find_unused_parameters is unused
    assert trainer.world_size == 2 and trainer.strategy.launches_processes


def test_ddp_kwargs_and_sync_batchnorm_override_are_kept() -> None:
    plugin = DDPPlugin(find_unused_parameters=False, gradient_as_bucket_view=True, sync_batchnorm=True)
    trainer = pl.Trainer(strategy=plugin, num_processes=2, **QUIET)
    assert trainer.strategy is plugin
    assert plugin.ddp_kwargs == {"find_unused_parameters": False, "gradient_as_bucket_view": True}
    assert plugin.sync_batchnorm


def test_a_single_device_strategy_object_is_used_as_given() -> None:
    strategy = SingleDeviceStrategy("cpu")
    assert pl.Trainer(strategy=strategy, **QUIET).strategy is strategy


@pytest.mark.parametrize(("flags", "message"), [
    (dict(plugins=["ddp_sharded"]), "plugins"),
    (dict(plugins=[object()]), r"plugins: object \(.*\) is not a plugin the Trainer can use"),
    (dict(plugins=[DDPPlugin(), DDPSpawnPlugin()], num_processes=2), "2 strategies given"),
    (dict(strategy=DDPPlugin(), plugins=[DDPSpawnPlugin()], num_processes=2), "2 strategies given"),
    (dict(strategy="dp", plugins=[DDPPlugin()]), "disagree"),
    (dict(plugins=[DataParallelPlugin()]), "needs GPUs"),
])
def test_plugins_the_trainer_cannot_use_are_errors(flags: dict, message: str) -> None:
    with pytest.raises(MisconfigurationError, match=message):
        pl.Trainer(**flags, **QUIET)


def test_unused_parameter_trains_under_ddp_spawn_with_two_processes(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=3, accelerator="cpu", devices=2,
                         plugins=[DDPSpawnPlugin(gradient_as_bucket_view=True)], default_root_dir=str(tmp_path),
                         **QUIET)
    trainer.fit(WithUnusedParameter(str(tmp_path)))
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert trainer.global_step == 3 and trainer.state.finished
    assert all(r["find_unused_parameters"] and r["gradient_as_bucket_view"] for r in ranks)
    assert ranks[0]["weight"] == pytest.approx(ranks[1]["weight"], abs=1e-7)
    # LightningModule.all_gather: a new first dimension of world_size; sync_grads keeps the graph (sum over ranks).
    assert ranks[0]["gathered"] == ranks[1]["gathered"] == [[0.0], [1.0]]
    assert ranks[0]["grad"] == ranks[1]["grad"] == [2.0]
    assert ranks[0]["ranks"] == [0, 1] and ranks[0]["pair_shape"] == [2, 2]
