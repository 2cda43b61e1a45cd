"""The one schema of Trainer flags.

Every Trainer flag is described here once: name, default, accepted kinds of value, the form group it belongs to,
help text, accepted choices and the 2.x/1.x spelling it shares a setting with. The Trainer validates its keyword
arguments with it, the command line builds its options from it, and the studio builds its forms from the JSON
copy produced by :func:`export_schema` (the GUI never imports this module).
"""

from __future__ import annotations

import difflib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.flag_validators import (
    Validator,
    check_accelerator,
    check_accumulate,
    check_auto_bs,
    check_auto_lr,
    check_bool,
    check_callbacks,
    check_check_val_every,
    check_choice,
    check_clip_val,
    check_deterministic,
    check_devices,
    check_fast_dev_run,
    check_gpus,
    check_int_at_least,
    check_limit,
    check_logger,
    check_max_epochs,
    check_max_steps,
    check_max_time,
    check_num_sanity,
    check_optional_bool,
    check_overfit,
    check_plugins,
    check_precision,
    check_profiler,
    check_refresh_rate,
    check_reload_every,
    check_str_or_none,
    check_strategy,
    check_tpu_cores,
    check_track_grad_norm,
    check_val_check_interval,
    normalize_limit,
)

__all__ = [
    "Flag",
    "FLAGS",
    "FLAG_GROUPS",
    "flag_names",
    "validate_flags",
    "suggest_flag",
    "export_schema",
    "normalize_limit",
    "override_flags",
]

FLAG_GROUPS = (
    "Loop",
    "Validation",
    "Optimization",
    "Precision",
    "Hardware",
    "Debugging",
    "Tuning",
    "Logging",
    "Callbacks",
)



@dataclass(frozen=True)
class Flag:
    """One Trainer flag.

    Attributes:
        name: keyword name accepted by ``Trainer``.
        default: value used when the flag is not given.
        kinds: the kinds of value accepted, for forms and the CLI: ``int``, ``float``, ``bool``, ``str``, ``none``,
            ``dict``, ``list``, ``object`` (a Python object such as a callback, not expressible in a form).
        group: the form group.
        help: one-line help text (tooltips, ``--help``).
        choices: accepted string values, if the flag takes a closed set of strings.
        setting: flags sharing a setting are two spellings of one thing; giving both is an error.
        validate: returns the normalised value or raises ``MisconfigurationError``.
        legacy: the 1.x spelling that 2.x removed (shown greyed in forms).
    """

    name: str
    default: Any
    kinds: tuple[str, ...]
    group: str
    help: str
    choices: tuple[Any, ...] = ()
    setting: str = ""
    validate: Validator | None = field(default=None, compare=False, repr=False)
    legacy: bool = False

    def describe(self) -> dict[str, Any]:
        """A JSON-safe description of the flag (used by the studio and the CLI help)."""
        return {
            "name": self.name,
            "default": _json_safe(self.default),
            "kinds": list(self.kinds),
            "group": self.group,
            "help": self.help,
            "choices": [_json_safe(c) for c in self.choices],
            "setting": self.setting or self.name,
            "legacy": self.legacy,
        }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return repr(value)


# ---------------------------------------------------------------------------------------------------------------
# The schema.


def _f(name: str, default: Any, kinds: str, group: str, help: str, validate: Validator, **extra: Any) -> Flag:
    return Flag(name=name, default=default, kinds=tuple(kinds.split("|")), group=group, help=help,
                validate=validate, **extra)


_SCHEMA: list[Flag] = [
    # Loop
    _f("max_epochs", None, "int|none", "Loop",
       "Stop after this many epochs (-1: no limit). Default: 1000 when max_steps is not set.", check_max_epochs),
    _f("min_epochs", None, "int|none", "Loop",
       "Run at least this many epochs; early-stop requests are deferred until then. Default: 1.",
       check_int_at_least(0)),
    _f("max_steps", -1, "int", "Loop", "Stop after this many optimizer steps (-1: no limit).", check_max_steps),
    _f("min_steps", None, "int|none", "Loop", "Run at least this many optimizer steps.", check_int_at_least(0)),
    _f("max_time", None, "str|dict|none", "Loop",
       'Wall-clock limit as "DD:HH:MM:SS" or a dict such as {"hours": 1}.', check_max_time),
    _f("limit_train_batches", 1.0, "float|int", "Loop",
       "Training batches per epoch: a float is a fraction, an int a count.", check_limit),
    _f("accumulate_grad_batches", None, "int|dict|none", "Optimization",
       "Step the optimizer every k batches; a dict {epoch: k} changes k by epoch (0-based).", check_accumulate),
    # Validation
    _f("check_val_every_n_epoch", 1, "int|none", "Validation", "Validate in every n-th epoch.", check_check_val_every),
    _f("val_check_interval", 1.0, "float|int", "Validation",
       "How often to validate within an epoch: a float is a fraction of the epoch, an int every N batches.",
       check_val_check_interval),
    _f("num_sanity_val_steps", 2, "int", "Validation",
       "Validation batches run before training as a sanity check (-1: all, 0: off).", check_num_sanity),
    _f("limit_val_batches", 1.0, "float|int", "Validation",
       "Validation batches per run: a float is a fraction, an int a count (0 disables validation).", check_limit),
    _f("limit_test_batches", 1.0, "float|int", "Validation", "Test batches: fraction (float) or count (int).",
       check_limit),
    _f("limit_predict_batches", 1.0, "float|int", "Validation", "Predict batches: fraction (float) or count (int).",
       check_limit),
    _f("reload_dataloaders_every_n_epochs", 0, "int", "Loop",
       "Request the dataloaders again every n epochs (0: load once; True: every epoch).", check_reload_every,
       setting="reload_dataloaders"),
    _f("reload_dataloaders_every_epoch", False, "bool", "Loop",
       "1.x spelling of reload_dataloaders_every_n_epochs=1.", check_bool, setting="reload_dataloaders", legacy=True),
    # Optimization
    _f("gradient_clip_val", None, "float|none", "Optimization",
       "Clip gradients to this value/norm once per optimizer step (0 or None: off).", check_clip_val),
    _f("gradient_clip_algorithm", None, "str|none", "Optimization",
       'How to clip: "norm" (global 2-norm) or "value" (elementwise). Default "norm".',
       check_choice("norm", "value"), choices=("norm", "value")),
    _f("track_grad_norm", -1, "float|int|str", "Optimization",
       'Log the p-norm of each gradient and their total (e.g. 2 or "inf"; -1: off).', check_track_grad_norm),
    _f("truncated_bptt_steps", None, "int|none", "Optimization",
       "Split each batch along the time dimension (dim 1) into chunks of this length.", check_int_at_least(1)),
    # Precision
    _f("precision", 32, "int|str", "Precision",
       'Numeric precision: 32, 16 (mixed), "bf16" (mixed), 64, or a 2.x string such as "16-mixed".', check_precision,
       choices=(32, 16, "bf16", 64, "32-true", "16-mixed", "bf16-mixed", "64-true", "16-true", "bf16-true")),
    _f("amp_backend", "native", "str", "Precision",
       'Mixed-precision implementation: "native" (torch.autocast) or "apex" (needs NVIDIA apex).',
       check_choice("native", "apex", allow_none=False), choices=("native", "apex"), legacy=True),
    _f("amp_level", None, "str|none", "Precision", "apex optimisation level O0-O3 (apex only).",
       check_choice("O0", "O1", "O2", "O3"), choices=("O0", "O1", "O2", "O3"), legacy=True),
    _f("deterministic", False, "bool|str|none", "Precision",
       "Use deterministic algorithms (torch.use_deterministic_algorithms); \"warn\" only warns.", check_deterministic),
    _f("benchmark", None, "bool|none", "Precision",
       "Set torch.backends.cudnn.benchmark (None: keep torch's setting, False when deterministic).",
       check_optional_bool),
    # Hardware
    _f("accelerator", None, "str|none", "Hardware",
       'Device type "cpu", "gpu", "tpu", "auto" (1.x also accepted a mode such as "ddp").', check_accelerator,
       choices=("cpu", "gpu", "cuda", "tpu", "auto")),
    _f("devices", None, "int|str|list|none", "Hardware",
       'Number of devices, a list of indices, -1 for all, or "auto".', check_devices, setting="device_count"),
    _f("strategy", None, "str|none", "Hardware", 'Parallel strategy: "dp", "ddp", "ddp_spawn", "ddp_cpu".',
       check_strategy, choices=("dp", "ddp", "ddp_spawn", "ddp_cpu"), setting="strategy"),
    _f("distributed_backend", None, "str|none", "Hardware", "1.0-1.4 spelling of strategy (deprecated).",
       check_strategy, choices=("dp", "ddp", "ddp_spawn", "ddp_cpu"), setting="strategy", legacy=True),
    _f("gpus", None, "int|str|list|none", "Hardware",
       'GPUs per node: a count, -1 for all, a list of indices or a string such as "0,2".', check_gpus,
       setting="device_count", legacy=True),
    _f("auto_select_gpus", False, "bool", "Hardware", "Pick free GPUs when gpus is a count.", check_bool, legacy=True),
    _f("tpu_cores", None, "int|list|none", "Hardware", "TPU cores (1 or 8, or [k]); needs torch_xla.", check_tpu_cores,
       setting="device_count", legacy=True),
    _f("num_processes", 1, "int", "Hardware", "CPU processes for ddp_cpu.", check_int_at_least(1, allow_none=False),
       setting="device_count", legacy=True),
    _f("num_nodes", 1, "int", "Hardware", "Number of machines; world size = nodes x devices.",
       check_int_at_least(1, allow_none=False)),
    _f("sync_batchnorm", False, "bool", "Hardware", "Synchronise BatchNorm statistics across processes.", check_bool),
    _f("replace_sampler_ddp", True, "bool", "Hardware",
       "Inject a DistributedSampler under DDP (train shuffled, eval not).", check_bool, setting="distributed_sampler",
       legacy=True),
    _f("use_distributed_sampler", True, "bool", "Hardware", "2.x spelling of replace_sampler_ddp.", check_bool,
       setting="distributed_sampler"),
    _f("plugins", None, "object|none", "Hardware", "Extra precision/cluster plugins (Python objects).", check_plugins),
    _f("prepare_data_per_node", True, "bool", "Hardware",
       "Call prepare_data on local rank 0 of every node (False: only on global rank 0).", check_bool),
    # Debugging
    _f("fast_dev_run", False, "bool|int", "Debugging",
       "Run n (True: 1) batches of train, val and test to find bugs; no logs or checkpoints.", check_fast_dev_run),
    _f("overfit_batches", 0.0, "float|int", "Debugging",
       "Train (and validate) repeatedly on the same first batches: a fraction (float) or a count (int).",
       check_overfit),
    _f("detect_anomaly", False, "bool", "Debugging", "Enable torch.autograd anomaly detection.", check_bool),
    _f("terminate_on_nan", False, "bool", "Debugging",
       "Stop when the loss or a parameter becomes NaN or infinite.", check_bool, legacy=True),
    _f("profiler", None, "str|none", "Debugging", 'Profile the run: "simple", "advanced" or "pytorch".', check_profiler,
       choices=("simple", "advanced", "pytorch")),
    # Tuning
    _f("auto_lr_find", False, "bool|str", "Tuning",
       "trainer.tune() runs the learning-rate finder and writes the suggestion to lr/learning_rate "
       "(or to the named attribute).", check_auto_lr),
    _f("auto_scale_batch_size", False, "bool|str", "Tuning",
       'trainer.tune() finds the largest batch size: True/"power", "binsearch" or "fit" (fast fit-and-confirm).',
       check_auto_bs, choices=(False, True, "power", "binsearch", "fit")),
    # Logging
    _f("logger", True, "bool|object", "Logging",
       "True: CSV (and TensorBoard when installed) logs in lightning_logs/; False: none; or Logger objects.",
       check_logger),
    _f("log_every_n_steps", 50, "int", "Logging", "Send step metrics to the logger every n steps.",
       check_int_at_least(1, allow_none=False)),
    _f("flush_logs_every_n_steps", None, "int|none", "Logging", "Write the logger's files every n steps.",
       check_int_at_least(1), legacy=True),
    _f("default_root_dir", None, "str|none", "Logging", "Root folder for logs and checkpoints (default: cwd).",
       check_str_or_none),
    _f("weights_save_path", None, "str|none", "Logging", "Root folder for checkpoints (default: default_root_dir).",
       check_str_or_none, legacy=True),
    _f("log_gpu_memory", None, "str|none", "Logging",
       'Log GPU memory read through NVML: "min_max" or "all".', check_choice("min_max", "all"),
       choices=("min_max", "all"), legacy=True),
    _f("enable_progress_bar", True, "bool", "Logging", "Show the console progress bar.", check_bool,
       setting="progress_bar"),
    _f("progress_bar_refresh_rate", None, "int|none", "Logging",
       "Redraw the progress bar every n batches (0 disables it).", check_refresh_rate, setting="progress_bar",
       legacy=True),
    _f("process_position", 0, "int", "Logging", "Line offset of the progress bar.", check_int_at_least(0), legacy=True),
    _f("enable_model_summary", True, "bool", "Logging", "Print the weights summary at the start of fit.", check_bool,
       setting="model_summary"),
    _f("weights_summary", "top", "str|none", "Logging",
       'Weights summary printed at fit start: "top", "full" or None.', check_choice("top", "full"),
       setting="model_summary", choices=("top", "full"), legacy=True),
    _f("move_metrics_to_cpu", False, "bool", "Logging", "Keep logged metric tensors on the CPU.", check_bool,
       legacy=True),
    # Callbacks
    _f("callbacks", None, "object|none", "Callbacks", "Callback objects added to the run.", check_callbacks),
    _f("enable_checkpointing", True, "bool", "Callbacks",
       "Add a default ModelCheckpoint (saves the last epoch) when none is given.", check_bool, setting="checkpointing"),
    _f("checkpoint_callback", True, "bool", "Callbacks", "1.x spelling of enable_checkpointing.", check_bool,
       setting="checkpointing", legacy=True),
    _f("resume_from_checkpoint", None, "str|none", "Callbacks",
       "1.x: checkpoint to resume from (use fit(ckpt_path=...)).", check_str_or_none, legacy=True),
    _f("stochastic_weight_avg", False, "bool", "Callbacks", "Add StochasticWeightAveraging (defaults).", check_bool,
       legacy=True),
    _f("multiple_trainloader_mode", "max_size_cycle", "str", "Loop",
       'How several train loaders are combined: "max_size_cycle" or "min_size".',
       check_choice("max_size_cycle", "min_size", allow_none=False), choices=("max_size_cycle", "min_size"),
       legacy=True),
    _f("inference_mode", True, "bool", "Validation", "Run evaluation under torch.inference_mode (else no_grad).",
       check_bool),
]

FLAGS: dict[str, Flag] = {flag.name: flag for flag in _SCHEMA}


def flag_names() -> list[str]:
    """All flag names, in schema order."""
    return list(FLAGS)


def suggest_flag(name: str) -> str | None:
    """The real flag a misspelled name most likely meant, or None.

    Same words in another order (``check_val_interval``) win over letter similarity.
    """
    words = sorted(name.lower().split("_"))
    for candidate in FLAGS:
        if sorted(candidate.split("_")) == words:
            return candidate
    close = difflib.get_close_matches(name.lower(), list(FLAGS), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_flag_error(name: str, where: str = "Trainer") -> MisconfigurationError:
    hint = suggest_flag(name)
    tip = f" Did you mean `{hint}`?" if hint else " Run `trainer-core fit --help` for the list of flags."
    return MisconfigurationError(f"`{name}` is not a {where} flag.{tip}")


def validate_flags(given: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise user-given flags; return every flag with defaults filled in.

    Raises:
        MisconfigurationError: an unknown flag (with a suggestion), a bad value, or two spellings of one setting.
    """
    for name in given:
        if name not in FLAGS:
            raise unknown_flag_error(name)
    by_setting: dict[str, str] = {}
    for name, value in given.items():
        setting = FLAGS[name].setting
        # A spelling left at None or at its default (what argparse passes for every flag) does not compete.
        if not setting or _left_at_default(FLAGS[name], value):
            continue
        if setting in by_setting:
            other = by_setting[setting]
            raise MisconfigurationError(
                f"`{other}` and `{name}` are two spellings of the same setting; pass only one of them."
            )
        by_setting[setting] = name
    resolved: dict[str, Any] = {}
    for name, flag in FLAGS.items():
        value = given[name] if name in given else flag.default
        resolved[name] = flag.validate(name, value) if flag.validate else value
    if resolved["distributed_backend"] is not None:
        warnings.warn(f"distributed_backend={resolved['distributed_backend']!r} is the 1.0-1.4 spelling; use "
                      f"strategy={resolved['distributed_backend']!r}", DeprecationWarning, stacklevel=3)
        resolved["strategy"] = resolved["distributed_backend"]
    return resolved


def _left_at_default(flag: Flag, value: Any) -> bool:
    return value is None or (type(value) is type(flag.default) and value == flag.default)


def override_flags(given: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` with ``overrides`` applied; an override replaces every spelling of its setting.

    Used to build a Trainer like another one but with some settings changed (the tuner's short fits): overriding
    ``enable_checkpointing`` must drop a given ``checkpoint_callback``, or the two spellings would clash.

    Examples:
        >>> override_flags({"checkpoint_callback": True, "max_epochs": 3}, {"enable_checkpointing": False})
        {'max_epochs': 3, 'enable_checkpointing': False}
    """
    replaced = {FLAGS[name].setting or name for name in overrides}
    kept = {name: value for name, value in given.items()
            if name not in overrides and (FLAGS[name].setting or name) not in replaced}
    return {**kept, **overrides}


def export_schema() -> str:
    """The schema as JSON text: what the studio reads to build its forms."""
    return json.dumps({"groups": list(FLAG_GROUPS), "flags": [f.describe() for f in _SCHEMA]}, indent=1)
