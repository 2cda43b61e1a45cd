"""The benchmark workloads (model, loss, optimizer, data) and the hand-written PyTorch loop that is every baseline.

A workload is framework-free: the plain loop calls it directly, and `benchmarks._frameworks` wraps the very same
network builder and loss in a LightningModule (trainer_core's or Lightning's), so the only difference between the
two timings is the trainer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from benchmarks._harness import seed_all

__all__ = [
    "InMemoryBatches",
    "Workload",
    "conv_net",
    "lstm_data",
    "lstm_workload",
    "mnist_like_data",
    "mnist_mlp_workload",
    "plain_fit",
    "tiny_mlp_batches",
    "tiny_mlp_workload",
    "transformer_batches",
    "transformer_workload",
]

Batch = Sequence[torch.Tensor]


@dataclass(frozen=True)
class Workload:
    """What a training run needs besides the trainer.

    Attributes:
        name: Short name used in row labels.
        build: Returns a freshly initialised network (call it after seeding).
        loss: `loss(net, batch) -> scalar tensor`, the body of `training_step`.
        optimizer: `optimizer(params) -> torch.optim.Optimizer`.
    """

    name: str
    build: Callable[[], nn.Module]
    loss: Callable[[nn.Module, Batch], torch.Tensor]
    optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


class InMemoryBatches:
    """A re-iterable sequence of ready batches: "batches already in memory" without any DataLoader machinery."""

    def __init__(self, batches: list[tuple[torch.Tensor, ...]]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def _adam(lr: float) -> Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]:
    return lambda params: torch.optim.Adam(params, lr=lr)


def _xy_loss(kind: str) -> Callable[[nn.Module, Batch], torch.Tensor]:
    def loss(net: nn.Module, batch: Batch) -> torch.Tensor:
        x, y = batch
        out = net(x)
        return F.mse_loss(out, y) if kind == "mse" else F.cross_entropy(out, y)

    return loss


# --- LSTM parity (Lightning's ParityModuleRNN workload) -------------------------------------------------------------


class _SeqRegressor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(10, 20, batch_first=True)
        self.head = nn.Linear(20, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq, _ = self.rnn(x)
        return self.head(seq)


def lstm_workload() -> Workload:
    """LSTM 10->20 + Linear 20->5 on every time step, MSE, Adam lr 0.02."""
    return Workload("lstm", _SeqRegressor, _xy_loss("mse"), _adam(0.02))


def lstm_data(num_sequences: int = 300, length: int = 100, batch_size: int = 30, seed: int = 1234) -> DataLoader:
    """Random sequences whose target at each step mixes the two halves of the input features (5 outputs)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(num_sequences, length, 10, generator=gen)
    first, second = x[..., :5], x[..., 5:]
    y = first + torch.roll(second, shifts=1, dims=-1)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


# --- MNIST-shaped MLP parity (Lightning's ParityModuleMNIST workload) -----------------------------------------------


def _mnist_mlp() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 128),
        nn.Tanh(),
        nn.BatchNorm1d(128),
        nn.Dropout(0.3),
        nn.Linear(128, 10),
    )


def mnist_mlp_workload() -> Workload:
    """784->128->tanh->BatchNorm->Dropout(0.3)->10, cross-entropy, Adam lr 0.02."""
    return Workload("mnist_mlp", _mnist_mlp, _xy_loss("ce"), _adam(0.02))


def mnist_like_data(num_samples: int = 60_000, batch_size: int = 128, seed: int = 1234) -> DataLoader:
    """Synthetic data of MNIST's shape (1x28x28 floats, 10 classes): class prototypes plus noise.

    A fifth of the labels are random, so the loss settles well above zero and "equal to 5 decimals" means something.
    """
    gen = torch.Generator().manual_seed(seed)
    prototypes = torch.rand(10, 1, 28, 28, generator=gen)
    clean = torch.randint(0, 10, (num_samples,), generator=gen)
    x = prototypes[clean] + 0.5 * torch.randn(num_samples, 1, 28, 28, generator=gen)
    noisy = torch.rand(num_samples, generator=gen) < 0.2
    y = torch.where(noisy, torch.randint(0, 10, (num_samples,), generator=gen), clean)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


# --- tiny MLP for per-step overhead ---------------------------------------------------------------------------------


def tiny_mlp_workload() -> Workload:
    """784-256-256-10 ReLU MLP, cross-entropy, Adam lr 1e-3: small enough that a trainer's own cost shows."""
    build = lambda: nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    return Workload("tiny_mlp", build, _xy_loss("ce"), _adam(1e-3))


def tiny_mlp_batches(num_batches: int, batch_size: int = 64, device: str = "cpu", seed: int = 1234) -> list:
    """Ready (x, y) batches, already on `device`."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(num_batches, batch_size, 784, generator=gen)
    y = torch.randint(0, 10, (num_batches, batch_size), generator=gen)
    return [(x[i].to(device), y[i].to(device)) for i in range(num_batches)]


# --- small transformer (compute-bound, bf16 autocast) ---------------------------------------------------------------


class _TinyLM(nn.Module):
    def __init__(self, d_model: int, layers: int, vocab: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead=8, dim_feedforward=4 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(tokens)))


def transformer_workload(d_model: int, layers: int, vocab: int = 1024) -> Workload:
    """A token-predicting transformer encoder (pre-norm, 8 heads, FFN 4*d), cross-entropy, AdamW lr 3e-4."""

    def loss(net: nn.Module, batch: Batch) -> torch.Tensor:
        tokens, targets = batch
        logits = net(tokens)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))

    build = lambda: _TinyLM(d_model, layers, vocab)
    return Workload(f"transformer_d{d_model}x{layers}", build, loss, lambda p: torch.optim.AdamW(p, lr=3e-4))


def transformer_batches(
    num_batches: int, batch_size: int, seq_len: int, vocab: int = 1024, device: str = "cpu", seed: int = 1234
) -> list:
    """Random token batches (inputs and next-token targets), already on `device`."""
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, vocab, (num_batches, batch_size, seq_len + 1), generator=gen)
    return [(t[:, :-1].to(device), t[:, 1:].to(device)) for t in tokens]


# --- activation-heavy conv net (batch-size finder target) -----------------------------------------------------------


def conv_net() -> nn.Module:
    """Input 3x32x32 upsampled x8, three 3x3 conv layers of 64 channels, mean-pool, linear head (issue 4)."""
    return nn.Sequential(
        nn.Upsample(scale_factor=8),
        nn.Conv2d(3, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


# --- the hand-written loop ------------------------------------------------------------------------------------------


def _to_device(batch: Batch, device: torch.device) -> tuple[torch.Tensor, ...]:
    return tuple(t.to(device, non_blocking=True) for t in batch)


def plain_fit(
    workload: Workload,
    data: Iterable[Batch],
    *,
    seed: int,
    epochs: int = 1,
    device: str = "cpu",
    autocast_dtype: torch.dtype | None = None,
) -> float:
    """Trains like a hand-written script: seed, build, then forward / backward / step / zero_grad per batch.

    Returns the last batch's loss. The loss is kept as a tensor while training and read once at the end, so the
    baseline has no per-step host synchronisation (a trainer should not need one either).
    """
    seed_all(seed)
    dev = torch.device(device)
    net = workload.build().to(dev)
    optimizer = workload.optimizer(net.parameters())
    net.train()
    amp = torch.autocast(dev.type, dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
    last = torch.zeros(())
    for _ in range(epochs):
        for batch in data:
            batch = _to_device(batch, dev)
            with amp:
                loss = workload.loss(net, batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            last = loss.detach()
    return float(last)
