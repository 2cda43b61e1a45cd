"""Where batches come from: resolving dataloaders, counting batches under ``limit_*``, sampler replacement."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from torch.utils.data import DataLoader, IterableDataset, RandomSampler, SequentialSampler
from torch.utils.data.distributed import DistributedSampler

from trainer_core.exceptions import MisconfigurationError
from trainer_core.step_hooks import defines_loader

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["num_batches", "has_len", "rebuild_loader", "as_loader_list", "CombinedLoader", "prepare_loader",
           "source_loader", "train_loader", "overfit_eval_loaders"]

_STAGE_NAME = {"train": "limit_train_batches", "val": "limit_val_batches", "test": "limit_test_batches",
               "predict": "limit_predict_batches"}


def has_len(loader: Any) -> bool:
    try:
        return len(loader) is not None
    except (TypeError, NotImplementedError):
        return False


def num_batches(loader: Any, limit: int | float, stage: str) -> int | float:
    """Batches to run from ``loader`` under ``limit`` (the 1.x int-vs-float rule); ``inf`` for endless loaders."""
    length: float = len(loader) if has_len(loader) else math.inf
    flag = _STAGE_NAME.get(stage, "limit")
    if length == 0:
        return 0
    if isinstance(limit, int) or limit == 0.0:
        return int(min(length, int(limit)))
    if length == math.inf:
        if limit == 1.0:
            return math.inf
        raise MisconfigurationError(
            f"{flag}={limit} is a fraction, but the {stage} dataloader has no length (an IterableDataset). "
            f"Use {flag}=1.0 or an int number of batches")
    n = int(length * limit)
    if n == 0 and stage != "train" and limit > 0:
        raise MisconfigurationError(
            f"{flag}={limit} selects 0 of the {int(length)} {stage} batches; use at least {1 / length:.4g} "
            f"(one batch) or an int")
    return n


def as_loader_list(loaders: Any) -> list[Any]:
    if loaders is None:
        return []
    if isinstance(loaders, (list, tuple)):
        return list(loaders)
    return [loaders]


def rebuild_loader(loader: DataLoader, sampler: Any = None, batch_size: int | None = None) -> DataLoader:
    """A copy of ``loader`` with another sampler and/or batch size (all other settings kept)."""
    if not isinstance(loader, DataLoader):
        return loader
    if isinstance(loader.dataset, IterableDataset):
        return loader
    kwargs: dict[str, Any] = {
        "dataset": loader.dataset,
        "num_workers": loader.num_workers,
        "collate_fn": loader.collate_fn,
        "pin_memory": loader.pin_memory,
        "timeout": loader.timeout,
        "worker_init_fn": loader.worker_init_fn,
        "multiprocessing_context": loader.multiprocessing_context,
        "generator": loader.generator,
    }
    if loader.num_workers > 0:
        kwargs["prefetch_factor"] = loader.prefetch_factor
        kwargs["persistent_workers"] = loader.persistent_workers
    current_bs = loader.batch_size
    drop_last = loader.drop_last
    if loader.batch_sampler is not None and current_bs is None:
        # A user batch sampler: keep it unless we must change the sampler.
        if sampler is None and batch_size is None:
            return loader
        inner = loader.batch_sampler
        current_bs = getattr(inner, "batch_size", 1)
        drop_last = getattr(inner, "drop_last", False)
    kwargs["batch_size"] = batch_size if batch_size is not None else current_bs
    kwargs["drop_last"] = drop_last
    kwargs["sampler"] = sampler if sampler is not None else loader.sampler
    return DataLoader(**kwargs)


def is_shuffled(loader: Any) -> bool:
    return isinstance(getattr(loader, "sampler", None), RandomSampler)


def prepare_loader(loader: Any, *, shuffle_for_ddp: bool, sequential: bool, strategy: Any,
                   use_distributed_sampler: bool) -> Any:
    """Make the sampler sequential (overfit_batches) and/or distributed (DDP) as the flags ask."""
    if not isinstance(loader, DataLoader) or isinstance(loader.dataset, IterableDataset):
        return loader
    ddp_kwargs = strategy.distributed_sampler_kwargs() if use_distributed_sampler else None
    if ddp_kwargs is not None and not isinstance(loader.sampler, DistributedSampler):
        shuffle = shuffle_for_ddp and is_shuffled(loader) and not sequential
        sampler = DistributedSampler(loader.dataset, shuffle=shuffle, **ddp_kwargs)
        return rebuild_loader(loader, sampler=sampler)
    if sequential and not isinstance(loader.sampler, SequentialSampler):
        if is_shuffled(loader):
            warnings.warn("You requested to overfit but enabled training dataloader shuffling; the sampler is "
                          "replaced by a SequentialSampler", UserWarning, stacklevel=3)
        return rebuild_loader(loader, sampler=SequentialSampler(loader.dataset))
    return loader


class CombinedLoader:
    """Several training loaders combined into one: each batch is a list/dict with one batch from each.

    ``mode="max_size_cycle"`` cycles the shorter loaders until the longest ends; ``"min_size"`` stops with the
    shortest.
    """

    def __init__(self, loaders: Sequence[Any] | Mapping[str, Any], mode: str = "max_size_cycle") -> None:
        if mode not in ("max_size_cycle", "min_size"):
            raise MisconfigurationError(f"multiple_trainloader_mode={mode!r}: use \"max_size_cycle\" or \"min_size\"")
        self.loaders = loaders
        self.mode = mode

    def _items(self) -> list[tuple[Any, Any]]:
        if isinstance(self.loaders, Mapping):
            return list(self.loaders.items())
        return list(enumerate(self.loaders))

    def __len__(self) -> int:
        lengths = [len(loader) for _, loader in self._items()]
        return max(lengths) if self.mode == "max_size_cycle" else min(lengths)

    def __iter__(self) -> Iterator[Any]:
        items = self._items()
        iters = {key: iter(loader) for key, loader in items}
        for _ in range(len(self)):
            batch = {}
            for key, loader in items:
                try:
                    batch[key] = next(iters[key])
                except StopIteration:
                    iters[key] = iter(loader)
                    batch[key] = next(iters[key])
            yield batch if isinstance(self.loaders, Mapping) else [batch[i] for i in range(len(items))]


def combine_train_loaders(loaders: Any, mode: str) -> Any:
    if isinstance(loaders, Mapping) or (isinstance(loaders, (list, tuple)) and loaders and all(
            isinstance(item, Iterable) and not isinstance(item, (str, bytes)) for item in loaders)
            and all(hasattr(item, "__iter__") and not isinstance(item, (list, tuple)) for item in loaders)):
        return CombinedLoader(loaders, mode)
    return loaders


def source_loader(t: Trainer, kind: str) -> Any:
    """The loader(s) for ``kind`` from the stage's arguments, the datamodule, or the module (in that order)."""
    given = t._given_loaders
    for key in ("train_dataloaders",) if kind == "train" else ("val_dataloaders", "dataloaders"):
        if given.get(key) is not None:
            return given[key]
    method = f"{kind}_dataloader"
    dm = t.datamodule
    if dm is not None and defines_loader(dm, method):
        return t._hooks.datamodule(method)
    if t._hooks.module_overrides(method):
        return t._hooks.module(method)
    # Not overridden (the base method only says it must be implemented), or ``model.val_dataloader = None``, which
    # 1.x scripts write to switch that data off: no data of this kind.
    return None


def train_loader(t: Trainer) -> Any:
    """The training loader as the loop iterates it: combined, sequential under overfit_batches, DDP-ready."""
    loader = source_loader(t, "train")
    if loader is None:
        raise MisconfigurationError(
            f"No training data: {type(t.lightning_module).__name__} has no train_dataloader() and none was passed. "
            "Define train_dataloader() in the module or a LightningDataModule, or call "
            "trainer.fit(model, train_dataloaders=DataLoader(...))")
    loader = combine_train_loaders(loader, t.multiple_trainloader_mode)
    return prepare_loader(loader, shuffle_for_ddp=True, sequential=t.overfit_batches > 0, strategy=t.strategy,
                          use_distributed_sampler=t.use_distributed_sampler)


def overfit_eval_loaders(t: Trainer, count: int) -> list[Any]:
    """``overfit_batches`` (1.5): ``count`` sequential copies of the training loader stand in for val/test loaders.

    Inside fit the loop's own training loader is reused; the sanity check (which runs before it is built) and a
    stand-alone validate/test build it from the usual source.
    """
    source = t._overfit_source
    if source is None:
        source = t._overfit_source = train_loader(t)
    return [source] * max(count, 1)
