"""Models for the distributed tests (importable by spawned workers)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


def dataset(n: int = 32) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=generator)
    return TensorDataset(x, x.sum(dim=1, keepdim=True))


class Regression(pl.LightningModule):
    def __init__(self, batch_size: int = 4, fail_on_rank: int | None = None) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.layer = torch.nn.Linear(4, 1)
        self.batch_size = batch_size
        self.fail_on_rank = fail_on_rank

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.fail_on_rank is not None and self.global_rank == self.fail_on_rank and batch_idx == 1:
            raise RuntimeError(f"boom on rank {self.global_rank}")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss, on_epoch=True, sync_dist=True)
        self.log("rank", float(self.global_rank), on_step=False, on_epoch=True, sync_dist=True)
        return loss

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.05)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(dataset(), batch_size=self.batch_size, shuffle=False)


def indexed_dataset(n: int) -> TensorDataset:
    """Samples that carry their own index, so tests can see which rank got which sample."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=generator)
    return TensorDataset(torch.arange(n), x, x.sum(dim=1, keepdim=True))


class Probe(pl.LightningModule):
    """Writes what each rank saw to ``{out_dir}/rank{r}.json`` at the end of fit.

    The data sizes are uneven on purpose (30 train / 13 val samples over 2 ranks with batch 4).
    """

    def __init__(self, out_dir: str) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.out_dir = out_dir
        self.record: dict[str, Any] = {"first_batch": [], "val_sizes": []}

    def setup(self, stage: str | None = None) -> None:
        # Make the ranks differ on purpose: DDP broadcasts rank 0's weights when it wraps the model.
        with torch.no_grad():
            self.layer.weight.add_(float(self.global_rank))
        import random

        self.record["python_draw"] = random.random()  # equal on every rank after seed_everything

    def on_fit_start(self) -> None:
        self.record["start_weight"] = self.layer.weight.detach().flatten().tolist()

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        index, x, y = batch
        if batch_idx == 0:
            self.record["first_batch"].append(index.tolist())
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss, on_epoch=True, sync_dist=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        index, _, _ = batch
        self.record["val_sizes"].append(len(index))
        # Rank 1 stops improving after epoch 0, rank 0 keeps improving: EarlyStopping must stop both ranks.
        value = 1.0 if self.global_rank == 1 else 1.0 / (self.current_epoch + 1)
        self.log("val_metric", value)

    def on_fit_end(self) -> None:
        import json
        import os

        self.record["end_weight"] = self.layer.weight.detach().flatten().tolist()
        self.record["gathered"] = self.trainer.strategy.all_gather_object({"rank": self.global_rank})
        with open(os.path.join(self.out_dir, f"rank{self.global_rank}.json"), "w") as handle:
            json.dump(self.record, handle)

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.05)

    def configure_callbacks(self) -> Any:
        # From the module, not the Trainer: every rank must merge it (a rank without it would hang the others).
        from trainer_core.callbacks import EarlyStopping

        return [EarlyStopping(monitor="val_metric", patience=1, mode="min")]

    def train_dataloader(self) -> DataLoader:
        return DataLoader(indexed_dataset(30), batch_size=4, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(indexed_dataset(13), batch_size=4)


class WithUnusedParameter(Regression):
    """A branch that no step uses: DDP fails on it unless ``find_unused_parameters`` is on (the 1.x default)."""

    def __init__(self, out_dir: str) -> None:
        super().__init__()
        self.unused = torch.nn.Linear(4, 1)
        self.out_dir = out_dir

    def on_train_end(self) -> None:
        import json
        from pathlib import Path

        ddp = self.trainer.strategy._ddp
        mine = torch.tensor([float(self.global_rank)], requires_grad=True)
        gathered = self.all_gather(mine, sync_grads=True)
        gathered.sum().backward()
        collection = self.all_gather({"rank": torch.tensor(self.global_rank), "pair": [torch.ones(2)]})
        Path(self.out_dir, f"rank{self.global_rank}.json").write_text(json.dumps({
            "find_unused_parameters": ddp.find_unused_parameters, "gradient_as_bucket_view":
                ddp.gradient_as_bucket_view, "weight": self.layer.weight.sum().item(),
            "gathered": gathered.tolist(), "grad": mine.grad.tolist(), "ranks": collection["rank"].tolist(),
            "pair_shape": list(collection["pair"][0].shape)}))


class AskedToStopOnOneRank(Regression):
    """Sets its StopOnRequest event on rank ``rank`` only, after batch ``at`` of epoch 1 (as a signal that reached
    one rank first); writes each rank's end to ``{out_dir}/stop{r}.json``."""

    def __init__(self, out_dir: str, rank: int = 1, at: int = 1) -> None:
        super().__init__(batch_size=2)
        self.out_dir, self.rank, self.at = out_dir, rank, at

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        from trainer_core.callbacks.stop_on_request import StopOnRequest

        if self.global_rank == self.rank and self.current_epoch == 1 and batch_idx == self.at:
            for callback in self.trainer.callbacks:
                if isinstance(callback, StopOnRequest):
                    callback.stop_event.set()

    def teardown(self, stage: str | None = None) -> None:
        import json
        import os

        with open(os.path.join(self.out_dir, f"stop{self.global_rank}.json"), "w") as handle:
            json.dump({"global_step": self.trainer.global_step, "interrupted": self.trainer.interrupted}, handle)
