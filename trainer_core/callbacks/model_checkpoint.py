"""ModelCheckpoint: save the model periodically and keep the best ``save_top_k`` files (Lightning 1.5 semantics).

Files are written by ``trainer.save_checkpoint`` (temp file + rename) on rank 0 only. Nothing is saved during a
sanity check, under ``fast_dev_run``, outside ``fit``, or twice for the same ``global_step``.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from datetime import timedelta
from typing import Any

import torch

from trainer_core.callback import Callback
from trainer_core.callbacks._checkpoint_rules import fill_template, validate_arguments
from trainer_core.callbacks._common import broadcast, is_global_zero, log, reduce_decision, should_skip_decisions
from trainer_core.exceptions import MisconfigurationError

__all__ = ["ModelCheckpoint"]

class ModelCheckpoint(Callback):
    """Save checkpoints during ``fit``.

    Args:
        dirpath: folder for the files. None: ``{trainer.log_dir}/checkpoints`` when the trainer has a logger, else
            ``{default_root_dir}/checkpoints``.
        filename: template such as ``"{epoch}-{val_loss:.2f}"``; None means ``"{epoch}-{step}"``.
        monitor: metric deciding which checkpoints are best; None keeps the most recent (``save_top_k=1``).
        verbose: log every save.
        save_last: also write ``last.ckpt`` at each save and at the end of fit.
        save_top_k: how many best files to keep; -1 keeps all, 0 saves none (``last.ckpt`` aside).
        save_weights_only: save only the model weights.
        mode: ``"min"`` or ``"max"``: which direction of ``monitor`` is better.
        auto_insert_metric_name: turn ``{epoch}`` into ``epoch=3`` in file names.
        every_n_train_steps: save every n optimizer steps.
        train_time_interval: save at most once per this wall-clock interval.
        every_n_epochs: save every n epochs (the default trigger, n=1, when no trigger is given).
        save_on_train_epoch_end: save at the end of the training epoch instead of after validation. None: True when
            validation runs exactly once per epoch at its end.

    Examples:
        >>> ModelCheckpoint._format_checkpoint_name("{epoch:03d}-{acc}", {"epoch": 3, "acc": 0.03})
        'epoch=003-acc=0.03'
    """

    CHECKPOINT_JOIN_CHAR = "-"
    CHECKPOINT_NAME_LAST = "last"
    FILE_EXTENSION = ".ckpt"
    STARTING_VERSION = 1
    mode_dict = {"min": torch.lt, "max": torch.gt}

    def __init__(
        self,
        dirpath: str | os.PathLike | None = None,
        filename: str | None = None,
        monitor: str | None = None,
        verbose: bool = False,
        save_last: bool | None = None,
        save_top_k: int = 1,
        save_weights_only: bool = False,
        mode: str = "min",
        auto_insert_metric_name: bool = True,
        every_n_train_steps: int | None = None,
        train_time_interval: timedelta | None = None,
        every_n_epochs: int | None = None,
        save_on_train_epoch_end: bool | None = None,
    ) -> None:
        self.monitor = monitor
        self.verbose = verbose
        self.save_last = save_last
        self.save_top_k = save_top_k
        self.save_weights_only = save_weights_only
        self.mode = mode
        self.auto_insert_metric_name = auto_insert_metric_name
        self.filename = filename
        given = os.fspath(dirpath) if dirpath is not None else None
        # dirpath="" stays "" (1.5): file names without a folder, written relative to the working directory.
        self.dirpath = os.path.realpath(os.path.expanduser(given)) if given else given
        self._save_on_train_epoch_end_arg = save_on_train_epoch_end
        self._save_on_train_epoch_end = save_on_train_epoch_end
        validate_arguments(mode, save_top_k, monitor, every_n_train_steps, every_n_epochs, train_time_interval)
        self._every_n_train_steps = every_n_train_steps or 0
        self._train_time_interval = train_time_interval
        if every_n_epochs is None:
            every_n_epochs = 0 if (every_n_train_steps or train_time_interval is not None) else 1
        self._every_n_epochs = every_n_epochs

        self.best_k_models: dict[str, torch.Tensor] = {}
        self.kth_best_model_path = ""
        self.kth_value = torch.tensor(math.inf if mode == "min" else -math.inf)
        self.best_model_score: torch.Tensor | None = None
        self.best_model_path = ""
        self.last_model_path = ""
        self.current_score: torch.Tensor | None = None
        self._last_global_step_saved = -1
        self._last_time_checked: float | None = None
        self._validation_has_run = False
        self._dir_checked = False

    # --- arguments ------------------------------------------------------------------------------------------
    @property
    def state_key(self) -> str:
        # 1.5 keys the state by the resolved value (None until setup, then True/False): checkpoints written by 1.5
        # carry True/False here, and so do ours, so either resumes into a fresh callback.
        return self._state_key_with(self._save_on_train_epoch_end)

    @property
    def legacy_state_keys(self) -> tuple[str, ...]:
        """Keys this callback's state had in checkpoints of earlier versions (the unresolved argument)."""
        key = self._state_key_with(self._save_on_train_epoch_end_arg)
        return () if key == self.state_key else (key,)

    def _state_key_with(self, save_on_train_epoch_end: bool | None) -> str:
        return self._generate_state_key(
            monitor=self.monitor,
            mode=self.mode,
            every_n_train_steps=self._every_n_train_steps,
            every_n_epochs=self._every_n_epochs,
            train_time_interval=self._train_time_interval,
            save_on_train_epoch_end=save_on_train_epoch_end,
        )

    @property
    def every_n_epochs(self) -> int:
        return self._every_n_epochs

    @property
    def every_n_train_steps(self) -> int:
        return self._every_n_train_steps

    @property
    def train_time_interval(self) -> timedelta | None:
        return self._train_time_interval

    # --- hooks ----------------------------------------------------------------------------------------------
    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        self._resolve(trainer)

    def on_pretrain_routine_start(self, trainer: Any, pl_module: Any) -> None:
        self._resolve(trainer)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._last_time_checked = time.monotonic()
        self._warn_if_not_empty(trainer)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        if self._every_n_train_steps < 1 and self._train_time_interval is None:
            return  # the common case (epoch trigger): nothing to do per batch
        if self._should_skip_saving(trainer):
            return
        n = self._every_n_train_steps
        skip_batch = n < 1 or trainer.global_step % n != 0
        skip_time = True
        if self._train_time_interval is not None:
            now = time.monotonic()
            last = self._last_time_checked
            if last is None:
                self._last_time_checked = now  # the interval starts now
            else:
                # every rank must agree, or only some ranks would enter save_checkpoint
                skip_time = broadcast(trainer, (now - last) < self._train_time_interval.total_seconds())
                if not skip_time:
                    self._last_time_checked = now
        if skip_batch and skip_time:
            return
        self.save_checkpoint(trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self._save_on_train_epoch_end and not self._should_skip_saving(trainer) and self._is_epoch_to_save(
            trainer
        ):
            self.save_checkpoint(trainer)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if getattr(trainer, "sanity_checking", False):
            return
        self._validation_has_run = True
        if not self._save_on_train_epoch_end and not self._should_skip_saving(trainer) and self._is_epoch_to_save(
            trainer
        ):
            self.save_checkpoint(trainer)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        # After fit, last.ckpt holds the final state, also after a stop in the middle of an epoch (the last
        # epoch-end save may be older).
        if not self.save_last or getattr(trainer, "fast_dev_run", 0):
            return
        if self.last_model_path and self._last_global_step_saved == trainer.global_step:
            return
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        self._last_global_step_saved = int(trainer.global_step)

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "best_model_score": self.best_model_score,
            "best_model_path": self.best_model_path,
            "current_score": self.current_score,
            "dirpath": self.dirpath,
            "best_k_models": dict(self.best_k_models),
            "kth_best_model_path": self.kth_best_model_path,
            "kth_value": self.kth_value,
            "last_model_path": self.last_model_path,
            # Every key names the attribute it restores, so a saved state reads like the callback it came from.
            "_last_global_step_saved": self._last_global_step_saved,
        }

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None:
        # As 1.5: the best path and score always come back; the ranking (best_k_models and what follows from it)
        # only when the files it names live in this callback's folder, else this callback keeps its own.
        self.best_model_score = callback_state.get("best_model_score")
        self.best_model_path = callback_state.get("best_model_path", "")
        dirpath = callback_state.get("dirpath")
        if dirpath is not None and dirpath == self.dirpath:
            # Same folder: the files on disk are ours, so keep ranking them (top-k survives a resume).
            self.best_k_models = dict(callback_state.get("best_k_models", {}))
            self.kth_best_model_path = callback_state.get("kth_best_model_path", "")
            self.kth_value = callback_state.get("kth_value", self.kth_value)
            self.last_model_path = callback_state.get("last_model_path", "")
            self.current_score = callback_state.get("current_score")
            self._dir_checked = True  # resuming into our own folder: its files are expected
        # Checkpoints written before the key was renamed carry it without the underscore.
        last_saved = callback_state.get("_last_global_step_saved", callback_state.get("last_global_step_saved", -1))
        self._last_global_step_saved = int(last_saved)

    # --- resolution -----------------------------------------------------------------------------------------
    def _resolve(self, trainer: Any) -> None:
        if self._save_on_train_epoch_end is None:
            self._save_on_train_epoch_end = (
                getattr(trainer, "val_check_interval", 1.0) == 1.0
                and getattr(trainer, "check_val_every_n_epoch", 1) == 1
            )
        if self.dirpath is None:
            self.dirpath = broadcast(trainer, self._default_dirpath(trainer))

    def _warn_if_not_empty(self, trainer: Any) -> None:
        if self._dir_checked or self.save_top_k == 0 or getattr(trainer, "fast_dev_run", 0):
            return
        self._dir_checked = True
        if is_global_zero(trainer) and self.dirpath and os.path.isdir(self.dirpath) and os.listdir(self.dirpath):
            warnings.warn(
                f"Checkpoint directory {self.dirpath} exists and is not empty; files of another run may be "
                "overwritten or count in the top-k ranking. Pass ModelCheckpoint(dirpath=...) to use another folder.",
                UserWarning,
                stacklevel=2,
            )

    @staticmethod
    def _default_dirpath(trainer: Any) -> str:
        if getattr(trainer, "loggers", None) and getattr(trainer, "log_dir", None):
            root = trainer.log_dir
        else:
            root = getattr(trainer, "default_root_dir", None) or os.getcwd()
        return os.path.realpath(os.path.join(os.fspath(root), "checkpoints"))

    def _should_skip_saving(self, trainer: Any) -> bool:
        return should_skip_decisions(trainer) or self._last_global_step_saved == trainer.global_step

    def _is_epoch_to_save(self, trainer: Any) -> bool:
        n = self._every_n_epochs
        return n >= 1 and (trainer.current_epoch + 1) % n == 0

    # --- file names -----------------------------------------------------------------------------------------
    @classmethod
    def _format_checkpoint_name(
        cls,
        filename: str | None,
        metrics: dict[str, Any],
        prefix: str = "",
        auto_insert_metric_name: bool = True,
    ) -> str:
        """Fill a template: ``{name}``/``{name:spec}`` become ``name=value`` (or ``value``); unknown names are 0."""
        if not filename:
            filename = "{epoch}" + cls.CHECKPOINT_JOIN_CHAR + "{step}"
        filename = fill_template(filename, metrics, auto_insert_metric_name)
        return cls.CHECKPOINT_JOIN_CHAR.join([prefix, filename]) if prefix else filename

    def format_checkpoint_name(self, metrics: dict[str, Any], filename: str | None = None,
                               ver: int | None = None) -> str:
        """The full path for ``metrics`` (``{dirpath}/{filled template}[-v{ver}].ckpt``)."""
        name = self._format_checkpoint_name(
            filename if filename is not None else self.filename, metrics,
            auto_insert_metric_name=self.auto_insert_metric_name,
        )
        if ver is not None:
            name = self.CHECKPOINT_JOIN_CHAR.join([name, f"v{ver}"])
        name += self.FILE_EXTENSION
        return os.path.join(self.dirpath, name) if self.dirpath else name

    def _monitor_candidates(self, trainer: Any) -> dict[str, Any]:
        candidates = dict(trainer.callback_metrics)
        candidates["epoch"] = int(trainer.current_epoch)
        candidates["step"] = int(trainer.global_step)
        return candidates

    def _unique_filepath(self, trainer: Any, candidates: dict[str, Any], reusable: str | None = None) -> str:
        """The template's path, with ``-v1``, ``-v2``... appended while the name is taken by another file."""
        filepath = self.format_checkpoint_name(candidates)
        version = self.STARTING_VERSION
        while self.file_exists(filepath, trainer) and filepath != reusable:
            filepath = self.format_checkpoint_name(candidates, ver=version)
            version += 1
        return filepath

    def file_exists(self, filepath: str, trainer: Any) -> bool:
        """Whether ``filepath`` exists, as rank 0 sees it."""
        return bool(broadcast(trainer, os.path.isfile(filepath)))

    # --- saving ---------------------------------------------------------------------------------------------
    def save_checkpoint(self, trainer: Any) -> None:
        """Save now: the top-k (or most recent) file, then ``last.ckpt``."""
        candidates = self._monitor_candidates(trainer)
        self._last_global_step_saved = int(trainer.global_step)
        if self.monitor is None:
            self._save_none_monitor_checkpoint(trainer, candidates)
        else:
            self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)
        for logger in getattr(trainer, "loggers", None) or []:
            hook = getattr(logger, "after_save_checkpoint", None)
            if callable(hook):
                hook(self)

    def _save_topk_checkpoint(self, trainer: Any, candidates: dict[str, Any]) -> None:
        if self.save_top_k == 0:
            return
        if self.monitor not in candidates:
            if not trainer.callback_metrics:
                return  # nothing was logged at all: no score to rank by, so no top-k file and no error (1.5)
            message = (
                f"ModelCheckpoint(monitor={self.monitor!r}) could not find the monitored key in the returned "
                f"metrics: {sorted(k for k in candidates if k not in ('epoch', 'step'))}. "
                f"HINT: Did you call self.log({self.monitor!r}, value) in the LightningModule?"
            )
            # Before the first validation a val metric cannot exist yet: warn. At an epoch-end save, or once
            # validation has run, the metric should be there: a typo is the usual cause, so fail loudly.
            if self._validation_has_run or self._save_on_train_epoch_end:
                raise MisconfigurationError(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            return
        current = torch.as_tensor(candidates[self.monitor]).detach().float().cpu().squeeze()
        if self._check_monitor_top_k(trainer, current):
            self._update_best_and_save(current, trainer, candidates)
        elif self.verbose:
            log.info(
                f"Epoch {trainer.current_epoch:d}, global step {trainer.global_step:d}: {self.monitor!r} was not in "
                f"top {self.save_top_k}"
            )

    def _check_monitor_top_k(self, trainer: Any, current: torch.Tensor) -> bool:
        if self.save_top_k == -1 or len(self.best_k_models) < self.save_top_k:
            return True
        if not torch.isfinite(current):
            return False
        better = bool(self.mode_dict[self.mode](current, self.best_k_models[self.kth_best_model_path]))
        return reduce_decision(trainer, better, all_ranks=True)

    def _update_best_and_save(self, current: torch.Tensor, trainer: Any, candidates: dict[str, Any]) -> None:
        k = len(self.best_k_models) + 1 if self.save_top_k == -1 else self.save_top_k
        dropped = None
        if len(self.best_k_models) == k and k > 0:
            dropped = self.kth_best_model_path
            self.best_k_models.pop(dropped)
        if not torch.isfinite(current):
            # a NaN score must never rank as best
            current = torch.tensor(math.inf if self.mode == "min" else -math.inf)
        filepath = self._unique_filepath(trainer, candidates, reusable=dropped)
        self.current_score = current
        self.best_k_models[filepath] = current
        if len(self.best_k_models) == k:
            worst = max if self.mode == "min" else min
            self.kth_best_model_path = worst(self.best_k_models, key=lambda p: float(self.best_k_models[p]))
            self.kth_value = self.best_k_models[self.kth_best_model_path]
        best = min if self.mode == "min" else max
        self.best_model_path = best(self.best_k_models, key=lambda p: float(self.best_k_models[p]))
        self.best_model_score = self.best_k_models[self.best_model_path]
        if self.verbose:
            log.info(
                f"Epoch {trainer.current_epoch:d}, global step {trainer.global_step:d}: {self.monitor!r} reached "
                f"{float(current):0.5f} (best {float(self.best_model_score):0.5f}), saving model to {filepath!r} as "
                f"top {k}"
            )
        self._save_model(trainer, filepath)
        if dropped is not None and dropped != filepath:
            self._remove_file(trainer, dropped)

    def _save_none_monitor_checkpoint(self, trainer: Any, candidates: dict[str, Any]) -> None:
        if self.save_top_k == 0:
            return
        previous = self.best_model_path
        filepath = self._unique_filepath(trainer, candidates, reusable=previous if self.save_top_k == 1 else None)
        self.best_model_path = filepath
        self._save_model(trainer, filepath)
        if self.save_top_k == 1 and previous and previous != filepath:
            self._remove_file(trainer, previous)

    def _save_last_checkpoint(self, trainer: Any, candidates: dict[str, Any]) -> None:
        if not self.save_last:
            return
        # A placeholder in the last name is filled like any file name: "last-{epoch}" -> "last-epoch=2" (1.5).
        name = self._format_checkpoint_name(self.CHECKPOINT_NAME_LAST, candidates,
                                            auto_insert_metric_name=self.auto_insert_metric_name)
        filepath = os.path.join(self.dirpath or "", name + self.FILE_EXTENSION)
        previous, self.last_model_path = self.last_model_path, filepath
        self._save_model(trainer, filepath)
        if previous and previous != filepath:
            self._remove_file(trainer, previous)

    def _save_model(self, trainer: Any, filepath: str) -> None:
        if self.verbose:
            log.info(f"Saving checkpoint to {filepath!r}")
        if is_global_zero(trainer):
            folder = os.path.dirname(filepath)
            if folder:
                os.makedirs(folder, exist_ok=True)
        trainer.save_checkpoint(filepath, self.save_weights_only)

    def _remove_file(self, trainer: Any, filepath: str) -> None:
        if filepath in (self.best_model_path, self.last_model_path) or filepath in self.best_k_models:
            return  # still referenced (e.g. the same name reused): never delete a kept checkpoint
        if is_global_zero(trainer) and os.path.isfile(filepath):
            os.remove(filepath)
            log.debug(f"Removed checkpoint: {filepath}")

    def to_yaml(self, filepath: str | os.PathLike | None = None) -> None:
        """Write ``best_k_models`` (path -> score) as YAML, by default to ``{dirpath}/best_k_models.yaml``."""
        import yaml

        best = {path: float(score) for path, score in self.best_k_models.items()}
        target = os.fspath(filepath) if filepath is not None else os.path.join(self.dirpath or "",
                                                                                "best_k_models.yaml")
        with open(target, "w", encoding="utf-8") as stream:
            yaml.safe_dump(best, stream)
