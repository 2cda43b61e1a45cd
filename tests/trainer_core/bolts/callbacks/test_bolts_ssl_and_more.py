"""SSL probes, BYOL's moving average, the metrics table, and the callbacks that need optional packages."""

from __future__ import annotations

import importlib.util
import math

import pytest
import torch
from torch import nn

from tests.helpers.fake_trainer import FakeTrainer
from trainer_core.bolts.callbacks import (
    BYOLMAWeightUpdate,
    KNNOnlineEvaluator,
    ORTCallback,
    PrintTableMetricsCallback,
    SparseMLCallback,
    SSLOnlineEvaluator,
)
from trainer_core.exceptions import MisconfigurationError


class Byol(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.online_network = nn.Linear(2, 2)
        self.target_network = nn.Linear(2, 2)
        self.global_step = 0


def test_byol_update_is_the_ema_formula_and_tau_follows_the_cosine() -> None:
    module = Byol()
    online = [p.detach().clone() for p in module.online_network.parameters()]
    target = [p.detach().clone() for p in module.target_network.parameters()]
    callback = BYOLMAWeightUpdate(initial_tau=0.9)
    trainer = FakeTrainer(num_training_batches=10)
    trainer.max_epochs, trainer.max_steps = 2, -1
    module.global_step = 5
    callback.on_train_batch_end(trainer, module, None, None, 0)
    for after, old_target, old_online in zip(module.target_network.parameters(), target, online, strict=True):
        assert torch.allclose(after, 0.9 * old_target + 0.1 * old_online)
    assert callback.current_tau == pytest.approx(1 - 0.1 * (math.cos(math.pi * 5 / 20) + 1) / 2)
    module.global_step = 20
    assert callback.update_tau(module, trainer) == pytest.approx(1.0)


def test_knn_predicts_by_weighted_vote_of_neighbours() -> None:
    knn = KNNOnlineEvaluator(k=2, temperature=1.0)
    knn.num_classes = 3
    bank = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]), dim=1)
    labels = torch.tensor([0, 0, 2, 2])
    queries = torch.nn.functional.normalize(torch.tensor([[1.0, 0.05], [0.05, 1.0]]), dim=1)
    assert knn.predict(queries, bank, labels)[:, 0].tolist() == [0, 2]


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(2, 4)
        self.logged: dict[str, torch.Tensor] = {}

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def log(self, name: str, value: torch.Tensor, **kwargs: object) -> None:
        self.logged[name] = value


def test_ssl_online_evaluator_learns_a_separable_probe_without_touching_the_encoder() -> None:
    torch.manual_seed(0)
    encoder = Encoder()
    before = [p.detach().clone() for p in encoder.parameters()]
    probe = SSLOnlineEvaluator(z_dim=4, hidden_dim=None, num_classes=2, drop_p=0.0)
    trainer = FakeTrainer()
    probe.on_fit_start(trainer, encoder)
    probe.optimizer = torch.optim.SGD(probe.online_evaluator.parameters(), lr=0.5)
    x = torch.cat([torch.randn(32, 2) + 3, torch.randn(32, 2) - 3])
    y = torch.cat([torch.zeros(32, dtype=torch.long), torch.ones(32, dtype=torch.long)])
    for _ in range(50):
        probe.on_train_batch_end(trainer, encoder, None, ([x * 0, x], y), 0)  # the last view is evaluated
    probe.on_validation_batch_end(trainer, encoder, None, (x, y), 0)
    assert float(encoder.logged["online_val_acc"]) > 0.95
    assert {"online_train_acc", "online_train_loss", "online_val_loss"} <= set(encoder.logged)
    assert all(torch.equal(a, b) for a, b in zip(before, encoder.parameters(), strict=True))
    state = probe.on_save_checkpoint(trainer, encoder, {})
    restored = SSLOnlineEvaluator(z_dim=4, hidden_dim=None, num_classes=2)
    restored.on_load_checkpoint(trainer, encoder, state)
    restored.on_fit_start(trainer, encoder)
    linear = 2  # Flatten, Dropout, Linear
    assert torch.equal(restored.online_evaluator.block_forward[linear].weight,
                       probe.online_evaluator.block_forward[linear].weight)


def test_print_table_keeps_every_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    callback = PrintTableMetricsCallback()
    trainer = FakeTrainer(callback_metrics={"loss": torch.tensor(0.5)})
    callback.on_train_epoch_end(trainer, None)
    trainer.callback_metrics = {"loss": torch.tensor(0.25), "acc": 0.75}
    callback.on_train_epoch_end(trainer, None)
    assert callback.metrics_dicts == [{"loss": 0.5}, {"loss": 0.25, "acc": 0.75}]
    lines = capsys.readouterr().out.strip().splitlines()[-4:]
    assert lines[0].split("|")[0].strip() == "loss" and lines[0].split("|")[1].strip() == "acc"
    assert lines[2].split("|")[0].strip() == "0.5" and lines[3].split("|")[1].strip() == "0.75"


@pytest.mark.skipif(any(importlib.util.find_spec(m) for m in ("torch_ort", "sparseml")),
                    reason="checks the error when torch-ort and sparseml are not installed")
def test_optional_package_callbacks_name_their_packages() -> None:
    with pytest.raises(MisconfigurationError, match=r"`torch-ort`.*pip install torch-ort"):
        ORTCallback()
    with pytest.raises(MisconfigurationError, match=r"`sparseml`.*pip install sparseml"):
        SparseMLCallback(recipe_path="recipe.yaml")


def test_probes_run_inside_a_real_fit() -> None:
    from torch.utils.data import DataLoader, TensorDataset

    import trainer_core as pl

    class SelfSupervised(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Linear(2, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

        def training_step(self, batch, batch_idx):
            x, _y = batch
            return self(x).pow(2).mean()  # lr 0: the representation stays a fixed random projection

        def validation_step(self, batch, batch_idx):
            return None

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.0)

        def _loader(self):
            generator = torch.Generator().manual_seed(0)
            x = torch.cat([torch.randn(32, 2, generator=generator) + 3, torch.randn(32, 2, generator=generator) - 3])
            y = torch.cat([torch.zeros(32, dtype=torch.long), torch.ones(32, dtype=torch.long)])
            return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False)

        def train_dataloader(self):
            return self._loader()

        def val_dataloader(self):
            return self._loader()

    torch.manual_seed(0)
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0,
                         callbacks=[SSLOnlineEvaluator(z_dim=4, num_classes=2), KNNOnlineEvaluator(k=5)])
    trainer.fit(SelfSupervised())
    metrics = trainer.callback_metrics
    assert {"online_train_acc", "online_train_loss", "online_val_acc", "online_val_loss"} <= set(metrics)
    assert float(metrics["online_knn_val_acc"]) == 1.0, "two clusters far apart: every neighbour votes right"
