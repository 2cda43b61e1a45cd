"""``LightningLite`` (1.5, experimental there): keep your own PyTorch loop, get devices, DDP and precision.

Subclass it, put the loop in ``run``, and wrap the model, optimizers and loaders::

    class Lite(LightningLite):
        def run(self, epochs):
            model, optimizer = self.setup(Net(), torch.optim.SGD(...))
            loader = self.setup_dataloaders(DataLoader(...))
            for _ in range(epochs):
                for x, y in loader:
                    optimizer.zero_grad()
                    loss = F.mse_loss(model(x), y)
                    self.backward(loss)
                    optimizer.step()

    Lite(accelerator="cpu", strategy="ddp_spawn", devices=2).run(epochs=3)

Devices, strategies and precision are chosen exactly as the Trainer chooses them from the same flags.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from trainer_core.accelerators.connector import choose_devices
from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import validate_flags
from trainer_core.lite.wrappers import LiteDataLoader, LiteModule, LiteOptimizer, distributed_loader
from trainer_core.precision.plugins import Precision, select_precision
from trainer_core.seed import seed_everything
from trainer_core.strategies.base import Strategy
from trainer_core.strategies.registry import create_strategy
from trainer_core.utilities import export
from trainer_core.utilities.apply import move_to_device

__all__ = ["LightningLite"]


class _RunOnce:
    """What ``strategy.launch`` expects of a trainer: run the body here (rank 0 of a re-launched ``ddp`` job)."""

    def _run_stage_here(self, stage: str, body: Callable[[], Any]) -> Any:
        return body()


class LightningLite(ABC):
    """Base class for a training script that keeps its own loop (1.5's ``LightningLite``).

    Args:
        accelerator: ``"cpu"``, ``"gpu"``, ``"auto"`` (1.x also: a mode such as ``"ddp"``).
        strategy: ``"dp"``, ``"ddp"``, ``"ddp_spawn"``, a ``*_find_unused_parameters_false`` name, or a strategy
            object such as ``DDPPlugin(...)``.
        devices: how many devices (or which).
        num_nodes: machines.
        precision: 32, 16, ``"bf16"``, 64 or a 2.x string such as ``"bf16-mixed"``.
        plugins: strategy, cluster environment or precision plugin objects.
        gpus: 1.x spelling of the GPU request.
        tpu_cores: needs torch_xla (a clear error without it).
    """

    def __init__(self, accelerator: str | None = None, strategy: Any = None, devices: Any = None,
                 num_nodes: int = 1, precision: int | str = 32, plugins: Any = None, gpus: Any = None,
                 tpu_cores: Any = None) -> None:
        given = {"accelerator": accelerator, "strategy": strategy, "devices": devices, "num_nodes": num_nodes,
                 "precision": precision, "plugins": plugins, "gpus": gpus, "tpu_cores": tpu_cores}
        defaults = {"num_nodes": 1, "precision": 32}
        flags = validate_flags({k: v for k, v in given.items() if v is not None and v != defaults.get(k)})
        if flags.get("strategy") == "dp":
            raise MisconfigurationError("LightningLite does not support strategy=\"dp\"; use \"ddp\" or "
                                        "\"ddp_spawn\" (one process per device)")
        self._strategy: Strategy = create_strategy(choose_devices(flags), flags)
        self._precision: Precision = select_precision(flags["precision"], self._strategy.root_device,
                                                      plugins=flags["plugins"])
        self._running = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "run" in vars(cls) and not getattr(cls.run, "_lite_launcher", False):
            cls.run = _launching(cls.run)  # type: ignore[method-assign]

    @abstractmethod
    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Your training loop. Calling it starts the processes the strategy needs and runs it in each."""

    # --- where we are ---------------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        """The device of this process: tensors and modules go here (``to_device``)."""
        return self._strategy.root_device

    @property
    def global_rank(self) -> int:
        return self._strategy.global_rank

    @property
    def local_rank(self) -> int:
        return self._strategy.local_rank

    @property
    def node_rank(self) -> int:
        return self._strategy.node_rank

    @property
    def world_size(self) -> int:
        return self._strategy.world_size

    @property
    def is_global_zero(self) -> bool:
        return self._strategy.is_global_zero

    # --- running ----------------------------------------------------------------------------------------------
    def _run_impl(self, run: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        strategy = self._strategy
        if not strategy.launches_processes:
            return self._run_here(run, args, kwargs)
        if strategy.name == "ddp_spawn":
            return _spawn(self, args, kwargs)
        return strategy.launch(_RunOnce(), "lite", lambda: self._run_here(run, args, kwargs))

    def _run_here(self, run: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self._strategy.setup_environment()
        self._running = True
        try:
            return run(self, *args, **kwargs)
        finally:
            self._running = False

    # --- wrapping ---------------------------------------------------------------------------------------------
    def setup(self, model: nn.Module, *optimizers: torch.optim.Optimizer,
              move_to_device: bool = True) -> Any:
        """The model (and optimizers) ready for this process: on the device, converted for the precision, wrapped in
        DistributedDataParallel when several processes train. Returns the model alone or ``(model, *optimizers)``.

        Create the optimizers over the model's parameters before calling this, as with plain PyTorch.
        """
        model = self._precision.convert_module(model)
        if move_to_device:
            model = model.to(self.device)
        forward_module: nn.Module = model
        if self.world_size > 1 and hasattr(self._strategy, "ddp_kwargs"):
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            forward_module = nn.parallel.DistributedDataParallel(model, device_ids=device_ids,
                                                                 **self._strategy.ddp_kwargs)
        wrapped = LiteModule(forward_module, self._precision, model)
        if not optimizers:
            return wrapped
        return (wrapped, *(LiteOptimizer(optimizer, self._precision) for optimizer in optimizers))

    def setup_dataloaders(self, *dataloaders: DataLoader, replace_sampler: bool = True,
                          move_to_device: bool = True) -> Any:
        """Loaders that give each process its share of the data (``replace_sampler``) and put batches on the device
        (``move_to_device``). Returns one loader or a list, as given."""
        out = []
        for loader in dataloaders:
            if replace_sampler and self.world_size > 1:
                loader = distributed_loader(loader, self.world_size, self.global_rank)
            out.append(LiteDataLoader(loader, self.device if move_to_device else None))
        return out[0] if len(out) == 1 else out

    # --- the loop's helpers -------------------------------------------------------------------------------------
    def backward(self, tensor: torch.Tensor, *args: Any, model: Any = None, **kwargs: Any) -> None:
        """``tensor.backward(*args, **kwargs)`` through the precision (a GradScaler scales the loss first)."""
        self._precision.backward(tensor, lambda loss: loss.backward(*args, **kwargs))

    @contextmanager
    def autocast(self) -> Generator[None, None, None]:
        """Run code outside the wrapped model under the precision's autocast."""
        with self._precision.forward_context():
            yield

    def to_device(self, obj: Any) -> Any:
        """A module, tensor or collection of tensors moved to this process's device."""
        if isinstance(obj, nn.Module):
            return obj.to(self.device)
        return move_to_device(obj, self.device)

    def print(self, *args: Any, **kwargs: Any) -> None:
        """``print`` on global rank 0 only."""
        if self.is_global_zero:
            print(*args, **kwargs)

    def barrier(self, name: str | None = None) -> None:
        """Wait until every process gets here."""
        self._strategy.barrier(name)

    def all_gather(self, data: Any, group: Any = None, sync_grads: bool = False) -> Any:
        """Tensors from every process, stacked on a new first dimension (unchanged in one process); Python
        numbers become tensors first, as in 1.5 (``lite.all_gather(test_loss).mean()`` on a float)."""
        return export.all_gather(self, data, group=group, sync_grads=sync_grads, device=self.device)

    def broadcast(self, obj: Any, src: int = 0) -> Any:
        """``obj`` as process ``src`` has it."""
        return self._strategy.broadcast(obj, src)

    def save(self, content: Any, filepath: str | os.PathLike[str]) -> None:
        """``torch.save`` on global rank 0 only (wrapped models save their own state_dict)."""
        if self.is_global_zero:
            torch.save(content, filepath)
        self.barrier("save")

    def load(self, filepath: str | os.PathLike[str], *, weights_only: bool = True) -> Any:
        """``torch.load`` onto the CPU. ``weights_only`` (on) refuses pickled objects that could run code; turn
        it off only for files you trust."""
        return torch.load(filepath, map_location="cpu", weights_only=weights_only)

    @staticmethod
    def seed_everything(seed: int | None = None, workers: bool | None = None) -> int:
        """:func:`trainer_core.seed_everything` (workers seeded when ``workers`` is true)."""
        return seed_everything(seed, workers=bool(workers))


def _launching(run: Callable[..., Any]) -> Callable[..., Any]:
    """A subclass's ``run``: called by the user it starts the strategy's processes; inside them it is the loop."""

    @functools.wraps(run)
    def launch(self: LightningLite, *args: Any, **kwargs: Any) -> Any:
        if self._running:
            return run(self, *args, **kwargs)
        return self._run_impl(run, args, kwargs)

    launch._lite_launcher = True  # type: ignore[attr-defined]
    return launch


def _spawn(lite: LightningLite, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``ddp_spawn``: run ``lite.run`` in one spawned process per device; return rank 0's result."""
    import torch.multiprocessing as mp

    from trainer_core.strategies.environment import free_port
    from trainer_core.strategies.spawn_launch import _dumps, file_loaded_modules

    queue = mp.get_context("spawn").SimpleQueue()
    payload = _dumps((lite, args, kwargs))
    mp.start_processes(_spawn_entry, args=(payload, file_loaded_modules(), str(free_port()), queue),
                       nprocs=lite._strategy.num_devices, join=True, start_method="spawn")
    return torch.load(io.BytesIO(queue.get()), weights_only=False)


def _spawn_entry(local_rank: int, payload: bytes, modules: dict[str, str], port: str, queue: Any) -> None:
    from trainer_core.seed import reset_seed
    from trainer_core.strategies.spawn_launch import _import_file_modules

    _import_file_modules(modules)
    lite, args, kwargs = pickle.loads(payload)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ["MASTER_PORT"] = port
    strategy = lite._strategy
    strategy.launches_processes = False
    strategy._set_ranks(local_rank, local_rank, 0, strategy.num_devices)
    reset_seed()
    try:
        result = lite.run(*args, **kwargs)
        if strategy.is_global_zero:
            buffer = io.BytesIO()
            torch.save(result, buffer)
            queue.put(buffer.getvalue())
        strategy.barrier()
    except BaseException:
        strategy.destroy()
        raise
    # Success: leave without interpreter teardown, which can abort a finished gloo worker (see spawn_launch).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
