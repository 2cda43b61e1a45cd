"""The Trainer: validated flags in, loops out.

The constructor validates every flag through the one schema (``trainer_core.flags``), resolves devices, precision,
loggers, profiler and default callbacks, and fires ``on_init_start``/``on_init_end``. The public methods set up a
stage and hand over to the loops in ``fit_loop.py`` and ``eval_loop.py``.

Examples:
    >>> trainer = Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    >>> trainer.max_epochs
    1
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from trainer_core.accelerators.connector import choose_devices
from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import validate_flags
from trainer_core.hooks import HookDispatcher
from trainer_core.precision.plugins import Precision, select_precision
from trainer_core.strategies.registry import create_strategy
from trainer_core.trainer import checkpointing, defaults, stages
from trainer_core.trainer.env_defaults import env_flag_defaults
from trainer_core.trainer.fit_run import FitRun
from trainer_core.trainer.limits import resolve_loop_limits
from trainer_core.trainer.results import ResultCollection, to_floats
from trainer_core.trainer.state import LoopProgress, TrainerState
from trainer_core.utilities import argparse as argparse_utils

__all__ = ["Trainer"]

log = logging.getLogger("trainer_core")


class Trainer:
    """Runs a LightningModule's training, validation, test and prediction loops.

    Every keyword is a flag of the 1.x Trainer (or its 2.x spelling); see ``trainer_core.flags`` and the README's
    flag table. Bad values raise ``MisconfigurationError`` here, never mid-run.
    """

    def __init__(self, **flags: Any) -> None:
        # 1.x: PL_TRAINER_<FLAG> environment variables fill in the flags the script does not pass.
        flags = {**env_flag_defaults(type(self).__name__, flags), **flags}
        self._flags = validate_flags(flags)
        # The keywords as given: the tuner builds its short-fit Trainers from them plus its own overrides.
        self._init_flags: dict[str, Any] = dict(flags)
        f = self._flags
        self.state = TrainerState()
        self.progress = LoopProgress()
        self._hooks = HookDispatcher(self)

        # --- loop limits --------------------------------------------------------------------------------------
        limits = resolve_loop_limits(f)
        self.fast_dev_run: bool | int = limits.fast_dev_run  # True stays True (1.5); it means one batch
        self.max_epochs: int = limits.max_epochs
        self.max_steps: int = limits.max_steps
        self.min_epochs: int = limits.min_epochs
        self.min_steps: int | None = limits.min_steps  # None when not given (1.5)
        self.max_time = limits.max_time
        self.limit_train_batches: int | float = limits.limit_train_batches
        self.limit_val_batches: int | float = limits.limit_val_batches
        self.limit_test_batches: int | float = limits.limit_test_batches
        self.limit_predict_batches: int | float = limits.limit_predict_batches
        self.val_check_interval: int | float = limits.val_check_interval
        self.check_val_every_n_epoch: int | None = limits.check_val_every_n_epoch
        self.num_sanity_val_steps: int | float = limits.num_sanity_val_steps
        self.overfit_batches: int | float = limits.overfit_batches
        if self.fast_dev_run:
            log.info("Running in fast_dev_run mode: will run %d batch(es) of train, val and test; "
                     "no logs or checkpoints are written", int(self.fast_dev_run))
        reload_n = f["reload_dataloaders_every_n_epochs"] or (1 if f["reload_dataloaders_every_epoch"] else 0)
        self.reload_dataloaders_every_n_epochs: int = reload_n
        # fast_dev_run logs every step into its dummy logger, so trainer.logged_metrics is filled (1.5).
        self.log_every_n_steps: int = 1 if self.fast_dev_run else f["log_every_n_steps"]
        self.accumulate_grad_batches: int = f["accumulate_grad_batches"] if isinstance(
            f["accumulate_grad_batches"], int) else 1
        self.gradient_clip_val = f["gradient_clip_val"]
        self.gradient_clip_algorithm = f["gradient_clip_algorithm"] or "norm"
        self.track_grad_norm: float = f["track_grad_norm"]
        self.truncated_bptt_steps = f["truncated_bptt_steps"]
        self.terminate_on_nan: bool = f["terminate_on_nan"]
        self.detect_anomaly: bool = f["detect_anomaly"]
        self.multiple_trainloader_mode: str = f["multiple_trainloader_mode"]
        self.move_metrics_to_cpu: bool = f["move_metrics_to_cpu"]
        self.auto_lr_find = f["auto_lr_find"]
        self.auto_scale_batch_size = f["auto_scale_batch_size"]
        self.use_distributed_sampler: bool = f["use_distributed_sampler"] and f["replace_sampler_ddp"]
        self.prepare_data_per_node: bool = f["prepare_data_per_node"]
        self.inference_mode: bool = f["inference_mode"]
        self.log_gpu_memory = f["log_gpu_memory"]

        root = f["default_root_dir"] or os.getcwd()
        self._default_root_dir = os.path.normpath(os.fspath(root))
        self.weights_save_path = f["weights_save_path"] or self._default_root_dir

        # --- hardware and precision --------------------------------------------------------------------------
        self._device_choice = choose_devices(f)
        self.strategy = create_strategy(self._device_choice, f)
        self.num_nodes = self._device_choice.num_nodes
        self._precision: Precision = select_precision(f["precision"], self.strategy.root_device, f["amp_backend"],
                                                      f["amp_level"], f["plugins"])
        defaults.configure_determinism(f["deterministic"], f["benchmark"])
        self.deterministic = f["deterministic"]

        # --- logging, profiling, callbacks --------------------------------------------------------------------
        self.profiler = defaults.make_profiler(f["profiler"])
        self._loggers = defaults.make_loggers(f["logger"], self._default_root_dir, bool(self.fast_dev_run),
                                              f["flush_logs_every_n_steps"])
        self._logger_collection = _collection_if_list(f["logger"], self._loggers, bool(self.fast_dev_run))
        self.callbacks: list[Callback] = defaults.make_callbacks(self, f)
        self.resume_from_checkpoint = f["resume_from_checkpoint"]

        self._init_run_state()
        self._hooks.rebuild(self.callbacks, None, self.profiler)
        self._hooks.callbacks("on_init_start")
        self._hooks.callbacks("on_init_end")

    def _init_run_state(self) -> None:
        """Every field the stages and loops set while running, created here with its empty value and type."""
        self.lightning_module: Any = None
        self.datamodule: Any = None
        self._model: Any = None  # the module as the strategy wraps it (DP/DDP), else the module
        self.optimizers: list[torch.optim.Optimizer] = []
        self._lightning_optimizers: list[Any] = []
        self.lr_schedulers: list[dict[str, Any]] = []
        self.optimizer_frequencies: list[int] = []
        self.callback_metrics: dict[str, Any] = {}
        self._progress_bar_tensors: dict[str, Any] = {}
        self.logged_metrics: dict[str, Any] = {}
        # Logger step of each evaluation stage's per-batch rows (1.5 counts them across the whole run).
        self._eval_log_steps: dict[str, int] = {}
        self._results = ResultCollection("train")
        self.should_stop = False
        self.batch_idx = 0
        self.split_idx: int | None = None
        self.num_training_batches: int | float = 0
        self.num_val_batches: list[int | float] = []
        self.num_sanity_val_batches: list[int | float] = []
        self.num_test_batches: list[int | float] = []
        self.num_predict_batches: list[int | float] = []
        self.val_check_batch: int | float = math.inf
        self.train_dataloader: Any = None
        self.val_dataloaders: list[Any] = []
        self.test_dataloaders: list[Any] = []
        self.predict_dataloaders: list[Any] = []
        self.grad_norms: dict[str, torch.Tensor] = {}
        self._tuner: Any = None
        # Loop state shared by the stages (set and read by the loops; created here so that every field has one home).
        self._fit_run: FitRun | None = None  # the running fit's step plan
        self._profiling = False
        self._needs_transfer = False
        self._given_loaders: dict[str, Any] = {}
        self._val_loaders_loaded = False
        self._overfit_source: Any = None
        self._in_train_loop = False
        self._in_eval_loop = False
        self._current_batch: Any = None
        self._current_batch_bs: int | None = None
        self._epoch_start_rng: Any = None
        # What a checkpoint restore asks the next fit to resume (see checkpointing.restore_training_state).
        self._resume_rng: Any = None
        self._resume_skip_batches = 0
        self._resume_epoch_end = False

    # 1.x argparse helpers, built from the flag schema.
    add_argparse_args = classmethod(argparse_utils.add_argparse_args)
    from_argparse_args = classmethod(argparse_utils.from_argparse_args)
    parse_argparser = classmethod(argparse_utils.parse_argparser)
    get_init_arguments_and_types = classmethod(argparse_utils.get_init_arguments_and_types)

    # Set True to load fit/validate/test ckpt_path files with full unpickling (they may run code; trusted files only).
    trust_checkpoint = False

    # --- stages (the work around each lives in stages.py, the loops in fit_loop.py and eval_loop.py) ---------
    def fit(self, model: Any, train_dataloaders: Any = None, val_dataloaders: Any = None, datamodule: Any = None,
            ckpt_path: str | None = None, train_dataloader: Any = None) -> None:
        """Train ``model``; resume from ``ckpt_path`` (weights, optimizers, schedulers, callbacks, counters).

        A LightningDataModule passed in the loaders' place (``trainer.fit(model, dm)``) is the datamodule.
        """
        if train_dataloader is not None:  # the 1.2 spelling
            if train_dataloaders is not None:
                raise MisconfigurationError("pass train_dataloaders or train_dataloader, not both")
            train_dataloaders = train_dataloader
        ckpt_path = ckpt_path or self.resume_from_checkpoint
        stages.attach(self, model, datamodule, train_dataloaders=train_dataloaders, val_dataloaders=val_dataloaders)
        stages.run_stage(self, "fit", functools.partial(stages.fit_impl, self, ckpt_path))

    def validate(self, model: Any = None, dataloaders: Any = None, ckpt_path: str | None = None,
                 verbose: bool = True, datamodule: Any = None, val_dataloaders: Any = None) -> list[dict[str, float]]:
        """Run one validation epoch; returns one dict of epoch metrics per dataloader.

        Without a model (after fit) the best checkpoint is used, as 1.5's default ``ckpt_path="best"``.
        """
        return stages.run_eval(self, "validate", model, dataloaders or val_dataloaders, ckpt_path, verbose,
                               datamodule)

    def test(self, model: Any = None, dataloaders: Any = None, ckpt_path: str | None = None, verbose: bool = True,
             datamodule: Any = None, test_dataloaders: Any = None) -> list[dict[str, float]]:
        """Run one test epoch; without a model (after fit) the best checkpoint is used, as 1.5 does."""
        return stages.run_eval(self, "test", model, dataloaders or test_dataloaders, ckpt_path, verbose, datamodule)

    def predict(self, model: Any = None, dataloaders: Any = None, datamodule: Any = None,
                return_predictions: bool | None = None, ckpt_path: str | None = None) -> list[Any] | None:
        """Run ``predict_step`` over the predict dataloader(s) and return the predictions.

        ``return_predictions=None`` (the 1.5 default) returns them unless the strategy spawns processes.
        """
        out = stages.run_eval(self, "predict", model, dataloaders, ckpt_path, False, datamodule)
        if return_predictions is None:
            return_predictions = not self.strategy.launches_processes
        return out if return_predictions else None

    # Entry points other parts call on the trainer (strategies, LightningModule, LightningOptimizer, the tuner).
    def _run_stage_here(self, stage: str, body: Callable[[], Any]) -> Any:
        """Run a stage's body in this process (a launching strategy calls it in each worker)."""
        return stages.run_stage_here(self, stage, body)

    def _merge_module_callbacks(self) -> None:
        """Add the module's ``configure_callbacks`` to the trainer's (a method so that the tuner can replace it)."""
        stages.merge_module_callbacks(self)

    def _finalize_loggers(self, status: str) -> None:
        stages.finalize_loggers(self, status)

    def _manual_backward(self, loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        stages.manual_backward(self, loss, *args, **kwargs)

    def _manual_optimizer_step(self, optimizer: torch.optim.Optimizer, opt_idx: int, closure: Any,
                               **kwargs: Any) -> Any:
        return stages.manual_optimizer_step(self, optimizer, opt_idx, closure, **kwargs)

    # --- counters -------------------------------------------------------------------------------------------
    @property
    def current_epoch(self) -> int:
        return self.progress.current_epoch

    @current_epoch.setter
    def current_epoch(self, value: int) -> None:
        self.progress.current_epoch = value

    @property
    def global_step(self) -> int:
        return self.progress.global_step

    @global_step.setter
    def global_step(self, value: int) -> None:
        self.progress.global_step = value

    @property
    def total_batch_idx(self) -> int:
        return self.progress.total_batch_idx

    # --- state shortcuts ------------------------------------------------------------------------------------
    @property
    def sanity_checking(self) -> bool:
        return self.state.sanity_checking

    @property
    def training(self) -> bool:
        # Validation inside fit is not training (1.5: trainer.training is False and trainer.validating True there).
        return (self.state.stage == "fit" and not self.state.sanity_checking and self._in_train_loop
                and not self._in_eval_loop)

    @property
    def validating(self) -> bool:
        return self.state.stage == "validate" or (self.state.stage == "fit" and self._in_eval_loop)

    @property
    def testing(self) -> bool:
        return self.state.stage == "test"

    @property
    def predicting(self) -> bool:
        return self.state.stage == "predict"

    @property
    def interrupted(self) -> bool:
        return self.state.status == "interrupted"

    # --- devices --------------------------------------------------------------------------------------------
    @property
    def root_device(self) -> torch.device:
        return self.strategy.root_device

    @property
    def world_size(self) -> int:
        return self.strategy.world_size

    @property
    def global_rank(self) -> int:
        return self.strategy.global_rank

    @property
    def local_rank(self) -> int:
        return self.strategy.local_rank

    @property
    def node_rank(self) -> int:
        return self.strategy.node_rank

    @property
    def is_global_zero(self) -> bool:
        return self.strategy.is_global_zero

    @property
    def num_devices(self) -> int:
        return self.strategy.num_devices

    @property
    def num_gpus(self) -> int:
        return len(self._device_choice.device_ids)

    @property
    def gpus(self) -> Any:
        return self._flags["gpus"]

    @property
    def _distrib_type(self) -> Any:
        """1.5's ``DistributedType`` of the strategy (None on one device); 1.x scripts branch on it."""
        from trainer_core.utilities.enums import distrib_type_of

        return distrib_type_of(self.strategy.name)

    @property
    def _device_type(self) -> Any:
        """1.5's ``DeviceType`` of the root device."""
        from trainer_core.utilities.enums import DeviceType

        return DeviceType.GPU if self.strategy.root_device.type == "cuda" else DeviceType.CPU

    @property
    def precision(self) -> str:
        return self._precision.name

    @property
    def precision_plugin(self) -> Precision:
        return self._precision

    @property
    def scaler(self) -> Any:
        return self._precision.scaler

    # --- loggers and places ---------------------------------------------------------------------------------
    @property
    def loggers(self) -> list[Any]:
        return list(self._loggers)

    @loggers.setter
    def loggers(self, value: Sequence[Any] | None) -> None:
        self._loggers = list(value or [])
        self._logger_collection = None

    @property
    def logger(self) -> Any:
        """The logger; a ``LoggerCollection`` when a list was given (1.5, even for a list of one)."""
        if self._logger_collection is not None:
            return self._logger_collection
        return self._loggers[0] if self._loggers else None

    @logger.setter
    def logger(self, value: Any) -> None:
        self._loggers = [] if value is None else (list(value) if isinstance(value, (list, tuple)) else [value])
        self._logger_collection = _collection_if_list(value, self._loggers, False)

    @property
    def default_root_dir(self) -> str:
        return self._default_root_dir

    @property
    def log_dir(self) -> str:
        logger = self.logger
        if logger is not None and getattr(logger, "log_dir", None):
            return str(logger.log_dir)
        if logger is not None and getattr(logger, "save_dir", None):
            return str(logger.save_dir)
        return self._default_root_dir

    @property
    def progress_bar_metrics(self) -> dict[str, float]:
        """Metrics logged with ``prog_bar=True`` as floats (converted when read, at the bar's refresh rate)."""
        return to_floats(self._progress_bar_tensors)

    @property
    def progress_bar_dict(self) -> dict[str, float]:
        return self.progress_bar_metrics

    # --- callbacks ------------------------------------------------------------------------------------------
    def _find_callbacks(self, kind: str) -> list[Callback]:
        from trainer_core import callbacks as cbs

        cls = getattr(cbs, kind)
        return [cb for cb in self.callbacks if isinstance(cb, cls)]

    @property
    def checkpoint_callbacks(self) -> list[Any]:
        return self._find_callbacks("ModelCheckpoint")

    @property
    def checkpoint_callback(self) -> Any:
        found = self.checkpoint_callbacks
        return found[0] if found else None

    @property
    def early_stopping_callbacks(self) -> list[Any]:
        return self._find_callbacks("EarlyStopping")

    @property
    def early_stopping_callback(self) -> Any:
        found = self.early_stopping_callbacks
        return found[0] if found else None

    @property
    def progress_bar_callback(self) -> Any:
        found = self._find_callbacks("ProgressBarBase")
        return found[0] if found else None

    def describe_hooks(self) -> str:
        """Which callbacks sit on which hook."""
        return self._hooks.describe()

    # --- tuning ---------------------------------------------------------------------------------------------
    @property
    def tuner(self) -> Any:
        if self._tuner is None:
            from trainer_core.tuner import Tuner

            self._tuner = Tuner(self)
        return self._tuner

    def tune(self, model: Any, train_dataloaders: Any = None, val_dataloaders: Any = None, datamodule: Any = None,
             scale_batch_size_kwargs: dict[str, Any] | None = None, lr_find_kwargs: dict[str, Any] | None = None,
             train_dataloader: Any = None) -> dict[str, Any]:
        """Run the batch-size finder then the LR finder as ``auto_scale_batch_size``/``auto_lr_find`` ask."""
        return self.tuner.tune(model, train_dataloaders=train_dataloaders or train_dataloader,
                               val_dataloaders=val_dataloaders, datamodule=datamodule,
                               scale_batch_size_kwargs=scale_batch_size_kwargs, lr_find_kwargs=lr_find_kwargs)

    # --- checkpoints ----------------------------------------------------------------------------------------
    def save_checkpoint(self, filepath: str | os.PathLike[str], weights_only: bool = False) -> None:
        """Write a checkpoint of the current state atomically (rank 0 only)."""
        if self.lightning_module is None:
            raise MisconfigurationError("save_checkpoint needs a model: call it during or after fit/validate/test")
        checkpoint = checkpointing.dump_checkpoint(self, weights_only)
        if self.is_global_zero:
            from trainer_core.trainer.checkpoint_io import save_checkpoint_file

            save_checkpoint_file(checkpoint, filepath)
            self._call_telemetry("on_checkpoint_saved", os.fspath(filepath))
        self.strategy.barrier("save_checkpoint")

    def _call_telemetry(self, hook: str, *args: Any) -> None:
        """Send a telemetry event (``on_log_metrics``, ``on_lr_find_point``, ...) to the callbacks that want it."""
        self._hooks.callbacks(hook, *args)

    @property
    def ckpt_dir(self) -> Path:
        return Path(self.log_dir) / "checkpoints"


def _collection_if_list(value: Any, loggers: list[Any], fast_dev_run: bool) -> Any:
    """1.5: ``logger=[...]`` makes ``trainer.logger`` a ``LoggerCollection`` (``fast_dev_run`` keeps its dummy)."""
    if fast_dev_run or not isinstance(value, (list, tuple)) or not loggers:
        return None
    from trainer_core.loggers import LoggerCollection

    return LoggerCollection(loggers)
