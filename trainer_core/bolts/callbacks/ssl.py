"""Self-supervised learning callbacks of Bolts: online probes of the representation (a small MLP trained beside
the model, and a weighted k-nearest-neighbour classifier) and BYOL's moving-average target network."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from trainer_core.callback import Callback

__all__ = ["BYOLMAWeightUpdate", "KNNOnlineEvaluator", "SSLEvaluator", "SSLOnlineEvaluator"]


class SSLEvaluator(nn.Module):
    """The probe: dropout and a linear layer, or with ``n_hidden`` a hidden layer with batch norm and ReLU."""

    def __init__(self, n_input: int, n_classes: int, p: float = 0.1, n_hidden: int | None = 512) -> None:
        super().__init__()
        if n_hidden is None:
            self.block_forward = nn.Sequential(nn.Flatten(), nn.Dropout(p=p), nn.Linear(n_input, n_classes))
        else:
            self.block_forward = nn.Sequential(
                nn.Flatten(), nn.Dropout(p=p), nn.Linear(n_input, n_hidden, bias=False), nn.BatchNorm1d(n_hidden),
                nn.ReLU(inplace=True), nn.Dropout(p=p), nn.Linear(n_hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block_forward(x)


def _inputs_and_labels(batch: Any, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)``, where x may be a list of augmented views: the last view is the one evaluated (Bolts' rule)."""
    inputs, labels = batch[0], batch[1]
    if isinstance(inputs, (list, tuple)):
        inputs = inputs[-1]
    return inputs.to(device), labels.to(device)


def _representation(pl_module: Any, x: torch.Tensor) -> torch.Tensor:
    was_training = pl_module.training
    with torch.no_grad():
        pl_module.eval()
        features = pl_module(x)
        pl_module.train(was_training)
    features = features[-1] if isinstance(features, (list, tuple)) else features
    return features.flatten(start_dim=1)


class SSLOnlineEvaluator(Callback):
    """Trains a small classifier on the frozen representation ``pl_module(x)`` after each training batch and logs
    ``online_train_acc`` / ``online_train_loss`` per step and ``online_val_acc`` / ``online_val_loss`` per epoch.

    The representation is computed without gradients, so the probe never changes the model. The batch is
    ``(x, y)`` or ``([view_1, ..., view_n], y)`` (the last view is evaluated).

    Args:
        z_dim: size of the representation.
        drop_p: dropout of the probe.
        hidden_dim: hidden units of the probe (None: a linear probe).
        num_classes: number of classes (default: ``trainer.datamodule.num_classes``).
        dataset: the dataset's name (kept for Bolts compatibility).
    """

    def __init__(self, z_dim: int, drop_p: float = 0.2, hidden_dim: int | None = None,
                 num_classes: int | None = None, dataset: str | None = None) -> None:
        self.z_dim = z_dim
        self.drop_p = drop_p
        self.hidden_dim = hidden_dim
        self.num_classes = num_classes
        self.dataset = dataset
        self.online_evaluator: SSLEvaluator | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self._recovered: dict[str, Any] | None = None

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        if self.num_classes is None:
            self.num_classes = getattr(getattr(trainer, "datamodule", None), "num_classes", None)
        if self.num_classes is None:
            raise ValueError("SSLOnlineEvaluator needs num_classes (or a datamodule with num_classes)")
        self.online_evaluator = SSLEvaluator(n_input=self.z_dim, n_classes=self.num_classes, p=self.drop_p,
                                             n_hidden=self.hidden_dim).to(pl_module.device)
        self.optimizer = torch.optim.Adam(self.online_evaluator.parameters(), lr=1e-4)
        if self._recovered is not None:
            self.online_evaluator.load_state_dict(self._recovered["state_dict"])
            self.optimizer.load_state_dict(self._recovered["optimizer_state"])
            self._recovered = None

    def shared_step(self, pl_module: Any, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Accuracy and cross-entropy loss of the probe on one batch (tensors; nothing read from the device)."""
        assert self.online_evaluator is not None, "on_fit_start builds the probe"
        x, y = _inputs_and_labels(batch, pl_module.device)
        logits = self.online_evaluator(_representation(pl_module, x))
        loss = F.cross_entropy(logits, y)
        accuracy = (logits.argmax(dim=-1) == y).float().mean()
        return accuracy, loss

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           *args: Any) -> None:
        assert self.online_evaluator is not None and self.optimizer is not None
        self.online_evaluator.train()
        with torch.enable_grad():
            accuracy, loss = self.shared_step(pl_module, batch)
            loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        pl_module.log("online_train_acc", accuracy, on_step=True, on_epoch=False)
        pl_module.log("online_train_loss", loss.detach(), on_step=True, on_epoch=False)

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                                *args: Any) -> None:
        if self.online_evaluator is None:
            return
        self.online_evaluator.eval()
        with torch.no_grad():
            accuracy, loss = self.shared_step(pl_module, batch)
        pl_module.log("online_val_acc", accuracy, on_step=False, on_epoch=True, sync_dist=True)
        pl_module.log("online_val_loss", loss, on_step=False, on_epoch=True, sync_dist=True)

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any] | None:
        if self.online_evaluator is None or self.optimizer is None:
            return None
        return {"state_dict": self.online_evaluator.state_dict(), "optimizer_state": self.optimizer.state_dict()}

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None:
        self._recovered = callback_state


class KNNOnlineEvaluator(Callback):
    """After each validation epoch, classify the validation set by a weighted vote of its ``k`` nearest training
    samples in the (L2-normalised) representation and log ``online_knn_val_acc``.

    A neighbour's vote weighs ``exp(cosine_similarity / temperature)``.

    Args:
        k: neighbours per query.
        temperature: softness of the vote.
    """

    def __init__(self, k: int = 200, temperature: float = 0.07) -> None:
        self.k = k
        self.temperature = temperature
        self.num_classes: int | None = None

    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        self.num_classes = getattr(getattr(trainer, "datamodule", None), "num_classes", self.num_classes)

    def predict(self, query_feature: torch.Tensor, feature_bank: torch.Tensor,
                target_bank: torch.Tensor) -> torch.Tensor:
        """Class labels of each query sorted by vote, best first (``B x num_classes``).

        Args:
            query_feature: ``B x D`` normalised features.
            feature_bank: ``N x D`` normalised training features.
            target_bank: ``N`` training labels.
        """
        num_classes = self.num_classes or int(target_bank.max()) + 1
        batch = query_feature.size(0)
        k = min(self.k, feature_bank.size(0))
        similarity = query_feature @ feature_bank.T
        weights, indices = similarity.topk(k=k, dim=-1)
        labels = torch.gather(target_bank.expand(batch, -1), dim=-1, index=indices)
        weights = (weights / self.temperature).exp()
        one_hot = torch.zeros(batch * k, num_classes, device=labels.device)
        one_hot = one_hot.scatter(dim=-1, index=labels.reshape(-1, 1), value=1.0)
        scores = (one_hot.view(batch, k, num_classes) * weights.unsqueeze(-1)).sum(dim=1)
        return scores.argsort(dim=-1, descending=True)

    def _features(self, pl_module: Any, loader: Any) -> tuple[torch.Tensor, torch.Tensor]:
        features, targets = [], []
        for batch in loader:
            x, y = _inputs_and_labels(batch, pl_module.device)
            features.append(F.normalize(_representation(pl_module, x), dim=1))
            targets.append(y)
        return torch.cat(features), torch.cat(targets)

    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if getattr(trainer, "sanity_checking", False):
            return
        train_loader = getattr(trainer, "train_dataloader", None)
        val_loaders = getattr(trainer, "val_dataloaders", None) or []
        if train_loader is None or not val_loaders:
            return
        bank, bank_targets = self._features(pl_module, train_loader)
        queries, targets = self._features(pl_module, val_loaders[0])
        predicted = self.predict(queries, bank, bank_targets)[:, 0]
        accuracy = (predicted == targets).float().mean()
        pl_module.log("online_knn_val_acc", accuracy, on_step=False, on_epoch=True, sync_dist=True)


class BYOLMAWeightUpdate(Callback):
    """After each training batch, move ``pl_module.target_network`` towards ``pl_module.online_network``:
    ``target = tau * target + (1 - tau) * online``, with tau rising from ``initial_tau`` to 1 on a cosine schedule:
    ``tau = 1 - (1 - initial_tau) * (cos(pi * step / max_steps) + 1) / 2``.

    Args:
        initial_tau: tau at the first step.
    """

    def __init__(self, initial_tau: float = 0.996) -> None:
        self.initial_tau = initial_tau
        self.current_tau = initial_tau

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           *args: Any) -> None:
        self.update_weights(pl_module.online_network, pl_module.target_network)
        self.current_tau = self.update_tau(pl_module, trainer)

    def update_tau(self, pl_module: Any, trainer: Any) -> float:
        """tau for the next step from the cosine schedule over the whole fit."""
        max_steps = trainer.max_steps if getattr(trainer, "max_steps", -1) and trainer.max_steps > 0 else (
            int(trainer.num_training_batches) * int(trainer.max_epochs or 1))
        progress = pl_module.global_step / max(max_steps, 1)
        return 1 - (1 - self.initial_tau) * (math.cos(math.pi * progress) + 1) / 2

    def update_weights(self, online_net: nn.Module, target_net: nn.Module) -> None:
        """``target = tau * target + (1 - tau) * online`` for every parameter, in place, on the device."""
        with torch.no_grad():
            for online, target in zip(online_net.parameters(), target_net.parameters(), strict=True):
                target.mul_(self.current_tau).add_(online, alpha=1 - self.current_tau)
