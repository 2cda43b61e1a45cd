"""StopOnSignal: SIGTERM stops a run as the studio's Stop does (a stop checkpoint, the run ends interrupted)."""

from __future__ import annotations

import json
import os
import signal

import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks.stop_on_signal import StopOnSignal
from trainer_core.loading.objects import instantiate_flag_objects


class _Signalled(pl.LightningModule):
    """Sends itself SIGTERM at batch 3 of epoch 1, as the studio does over ssh."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        if self.current_epoch == 1 and batch_idx == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)


def test_sigterm_writes_the_stop_checkpoint_and_ends_the_run_interrupted(tmp_path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    stopper = StopOnSignal()
    trainer = pl.Trainer(max_epochs=5, default_root_dir=str(tmp_path), callbacks=[stopper],
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(_Signalled())
    assert trainer.interrupted and trainer.current_epoch == 1, "stopped in the epoch of the signal, not killed"
    assert trainer.global_step == 8 + 4, "the batch that received the signal finished first"
    assert stopper.checkpoint_path and os.path.isfile(stopper.checkpoint_path)
    assert os.path.basename(stopper.checkpoint_path) == "stopped-epoch=1-step=12.ckpt"
    assert signal.getsignal(signal.SIGTERM) is before, "the process's own handler is back after the run"
    events = [json.loads(line) for line in open(os.path.join(trainer.log_dir, "events.jsonl"), encoding="utf-8")]
    saved = [e for e in events if e["type"] == "checkpoint_saved" and e.get("kind") == "stopped"]
    assert [e["path"] for e in saved] == [stopper.checkpoint_path], "the event stream names the stop checkpoint"


def test_a_config_names_it_by_its_dotted_path() -> None:
    path = "trainer_core.callbacks.stop_on_signal.StopOnSignal"
    flags = instantiate_flag_objects({"callbacks": [{"class_path": path}]})
    assert [type(c) for c in flags["callbacks"]] == [StopOnSignal]
