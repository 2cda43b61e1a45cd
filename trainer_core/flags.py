"""The one schema of Trainer flags.

Every Trainer flag is described here once: name, default, accepted kinds of value, the form group it belongs to,
help text, accepted choices and the 2.x/1.x spelling it shares a setting with. The Trainer validates its keyword
arguments with it, the command line builds its options from it, and the studio builds its forms from the JSON
copy produced by :func:`export_schema` (the GUI never imports this module).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trainer_core.exceptions import MisconfigurationError

__all__ = [
    "Flag",
    "FLAGS",
    "FLAG_GROUPS",
    "flag_names",
    "validate_flags",
    "suggest_flag",
    "export_schema",
    "normalize_limit",
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

Validator = Callable[[str, Any], Any]


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
# Validators. Each takes (flag name, value) and returns the normalised value.


def _fail(name: str, value: Any, accepted: str) -> MisconfigurationError:
    return MisconfigurationError(f"`{name}={value!r}` is not valid: {name} accepts {accepted}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _fail(name, value, "True or False")


def _optional_bool(name: str, value: Any) -> bool | None:
    return None if value is None else _bool(name, value)


def _int_at_least(minimum: int, allow_none: bool = True) -> Validator:
    def check(name: str, value: Any) -> int | None:
        if value is None and allow_none:
            return None
        if _is_int(value) and value >= minimum:
            return value
        extra = " or None" if allow_none else ""
        raise _fail(name, value, f"an integer >= {minimum}{extra}")

    return check


def _max_epochs(name: str, value: Any) -> int | None:
    if value is None or (_is_int(value) and (value >= 0 or value == -1)):
        return value
    raise _fail(name, value, "an integer >= 0, -1 for no limit, or None")


def _max_steps(name: str, value: Any) -> int:
    if value is None:
        return -1
    if _is_int(value) and (value >= 0 or value == -1):
        return value
    raise _fail(name, value, "an integer >= 0 or -1 for no limit")


def normalize_limit(name: str, value: Any, *, allow_none: bool = True) -> int | float:
    """The 1.x rule for ``limit_*``, ``val_check_interval`` and ``overfit_batches``.

    A value in [0, 1] is kept as given (int ``1`` means one batch, float ``1.0`` means all); a value > 1 must be
    integral and becomes an int; anything else is an error.
    """
    if value is None and allow_none:
        return 1.0
    if not _is_number(value):
        raise _fail(name, value, "an int (number of batches) or a float in [0.0, 1.0] (fraction of batches)")
    if 0 <= value <= 1:
        return value
    if value > 1 and float(value).is_integer():
        return int(value)
    raise _fail(name, value, "an int (number of batches) or a float in [0.0, 1.0] (fraction of batches)")


def _limit(name: str, value: Any) -> int | float:
    return normalize_limit(name, value)


def _overfit(name: str, value: Any) -> int | float:
    if value is None:
        return 0.0
    return normalize_limit(name, value)


def _fast_dev_run(name: str, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if _is_int(value) and value >= 0:
        return value
    raise _fail(name, value, "True, False or an integer >= 0 (number of batches)")


def _num_sanity(name: str, value: Any) -> int:
    if value is None:
        return 2
    if _is_int(value) and value >= -1:
        return value
    raise _fail(name, value, "an integer >= 0, or -1 to run all validation batches")


def _max_time(name: str, value: Any) -> _dt.timedelta | None:
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        return value
    if isinstance(value, Mapping):
        try:
            return _dt.timedelta(**{str(k): float(v) for k, v in value.items()})
        except TypeError as err:
            raise _fail(name, value, "a dict of timedelta keys (days, hours, minutes, seconds)") from err
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) == 4 and all(p.strip().isdigit() for p in parts):
            days, hours, minutes, seconds = (int(p) for p in parts)
            return _dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    raise _fail(name, value, 'a "DD:HH:MM:SS" string, a datetime.timedelta or a dict such as {"hours": 1}')


def _val_check_interval(name: str, value: Any) -> int | float:
    if value is None:
        return 1.0
    if _is_number(value) and value > 0:
        return normalize_limit(name, value)
    raise _fail(name, value, "an int > 0 (every N training batches) or a float in (0.0, 1.0] (fraction of an epoch)")


def _check_val_every(name: str, value: Any) -> int | None:
    if value is None or (_is_int(value) and value >= 1):
        return value
    raise _fail(name, value, "an integer >= 1 (or None to count val_check_interval across epochs)")


def _accumulate(name: str, value: Any) -> int | dict[int, int]:
    if value is None:
        return 1
    if _is_int(value):
        if value >= 1:
            return value
        raise _fail(name, value, "an integer >= 1 or a dict {epoch: factor}")
    if isinstance(value, Mapping):
        if not value:
            raise _fail(name, value, "a non-empty dict {epoch: factor} with int keys >= 0 and int values >= 1")
        out: dict[int, int] = {}
        for key, factor in value.items():
            if isinstance(key, str) and key.strip().lstrip("-").isdigit():
                key = int(key)  # YAML/CLI dicts may carry string keys
            if not _is_int(key) or not _is_int(factor):
                raise _fail(name, value, "a dict {epoch: factor} whose keys and values are integers")
            if key < 0:
                raise _fail(name, value, "a dict {epoch: factor} with epoch keys >= 0 (epochs are 0-based)")
            if factor < 1:
                raise _fail(name, value, "a dict {epoch: factor} with factors >= 1")
            out[key] = factor
        return out
    raise _fail(name, value, "only an int or a dict {epoch: factor}")


def _clip_val(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if _is_number(value) and math.isfinite(value):
        return float(value)
    raise _fail(name, value, "a finite number (values <= 0 turn clipping off) or None")


def _choice(*choices: Any, allow_none: bool = True) -> Validator:
    def check(name: str, value: Any) -> Any:
        if value is None and allow_none:
            return None
        if isinstance(value, str) and value.lower() in [str(c).lower() for c in choices if isinstance(c, str)]:
            return value.lower()
        if value in choices and not isinstance(value, bool):
            return value
        listed = ", ".join(repr(c) for c in choices) + (" or None" if allow_none else "")
        raise _fail(name, value, listed)

    return check


def _track_grad_norm(name: str, value: Any) -> float:
    if value is None:
        return -1.0
    if isinstance(value, str) and value.lower() == "inf":
        return math.inf
    if _is_number(value) and (value == -1 or (value > 0)):
        return float(value)
    raise _fail(name, value, 'a positive number p (the p-norm), "inf", or -1 to turn it off')


def _precision(name: str, value: Any) -> str:
    mapping = {
        32: "32-true",
        "32": "32-true",
        "32-true": "32-true",
        16: "16-mixed",
        "16": "16-mixed",
        "16-mixed": "16-mixed",
        "16-true": "16-true",
        "bf16": "bf16-mixed",
        "bf16-mixed": "bf16-mixed",
        "bf16-true": "bf16-true",
        64: "64-true",
        "64": "64-true",
        "64-true": "64-true",
    }
    key = value.lower() if isinstance(value, str) else value
    if isinstance(key, bool) or key not in mapping:
        raise _fail(name, value, '32, 16, "bf16", 64 or a 2.x string ("32-true", "16-mixed", "bf16-mixed", '
                    '"64-true", "16-true", "bf16-true")')
    return mapping[key]


def _gpus(name: str, value: Any) -> Any:
    if value is None:
        return None
    if _is_int(value) and value >= -1:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text == "-1" or text.isdigit() or all(p.strip().isdigit() for p in text.split(",") if p.strip()):
            return text
    if isinstance(value, (list, tuple)) and all(_is_int(v) and v >= 0 for v in value):
        return list(value)
    raise _fail(name, value, 'None, an int (count, -1 for all), a list of indices or a string such as "0,2"')


def _devices(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _gpus(name, value)


def _accelerator(name: str, value: Any) -> str | None:
    accepted = ("cpu", "gpu", "cuda", "tpu", "auto", "dp", "ddp", "ddp_spawn", "ddp_cpu", "ddp2")
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in accepted:
        return value.lower()
    raise _fail(name, value, ", ".join(repr(a) for a in accepted) + " or None")


def _strategy(name: str, value: Any) -> Any:
    accepted = ("auto", "dp", "ddp", "ddp_spawn", "ddp_cpu", "ddp2", "ddp_find_unused_parameters_false",
                "single_device")
    if value is None:
        return None
    if isinstance(value, str):
        if value.lower() in accepted:
            return value.lower()
        raise _fail(name, value, ", ".join(repr(a) for a in accepted) + " or None")
    return value  # a Strategy object


def _tpu_cores(name: str, value: Any) -> Any:
    if value is None:
        return None
    if _is_int(value) and value in (1, 8):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 1 and _is_int(value[0]) and 1 <= value[0] <= 8:
        return list(value)
    if isinstance(value, str) and value.strip() in ("1", "8"):
        return int(value)
    raise _fail(name, value, "1, 8, a one-element list [k] with k in 1..8, or None")


def _profiler(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        if value.lower() in ("simple", "advanced", "pytorch"):
            return value.lower()
        raise _fail(name, value, '"simple", "advanced", "pytorch", a Profiler instance or None')
    if hasattr(value, "profile") and hasattr(value, "start") and hasattr(value, "stop"):
        return value
    raise _fail(name, value, '"simple", "advanced", "pytorch", a Profiler instance or None')


def _logger(name: str, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    items = value if isinstance(value, (list, tuple)) else [value]
    if all(hasattr(item, "log_metrics") for item in items):
        return value
    raise _fail(name, value, "True, False, a Logger or a list of Loggers")


def _callbacks(name: str, value: Any) -> list[Any]:
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if not hasattr(item, "on_fit_start"):
            raise _fail(name, value, "a Callback or a list of Callbacks")
    return items


def _str_or_none(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) or hasattr(value, "__fspath__"):
        return str(value)
    raise _fail(name, value, "a path string or None")


def _auto_lr(name: str, value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isidentifier():
        return value
    raise _fail(name, value, "True, False or the name of the attribute holding the learning rate")


def _auto_bs(name: str, value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("power", "binsearch", "fit"):
        return value.lower()
    raise _fail(name, value, 'True, False, "power", "binsearch" or "fit"')


def _deterministic(name: str, value: Any) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    if value == "warn":
        return value
    raise _fail(name, value, 'True, False, "warn" or None')


def _refresh_rate(name: str, value: Any) -> int | None:
    if value is None or (_is_int(value) and value >= 0):
        return value
    raise _fail(name, value, "an integer >= 0 (0 disables the bar) or None")


def _any(name: str, value: Any) -> Any:
    return value


def _plugins(name: str, value: Any) -> Any:
    # Plugins are Python objects; 1.x plugin names ("ddp_sharded", ...) and plain data would be ignored silently.
    items = value if isinstance(value, (list, tuple)) else [value]
    if value is not None and any(isinstance(item, (str, bytes, int, float, dict, list, tuple)) or item is None
                                 for item in items):
        raise _fail(name, value, "None, a plugin object (for example a Precision plugin) or a list of them")
    return value


# ---------------------------------------------------------------------------------------------------------------
# The schema.


def _f(name: str, default: Any, kinds: str, group: str, help: str, validate: Validator, **extra: Any) -> Flag:
    return Flag(name=name, default=default, kinds=tuple(kinds.split("|")), group=group, help=help,
                validate=validate, **extra)


_SCHEMA: list[Flag] = [
    # Loop
    _f("max_epochs", None, "int|none", "Loop",
       "Stop after this many epochs (-1: no limit). Default: 1000 when max_steps is not set.", _max_epochs),
    _f("min_epochs", None, "int|none", "Loop",
       "Run at least this many epochs; early-stop requests are deferred until then. Default: 1.",
       _int_at_least(0)),
    _f("max_steps", -1, "int", "Loop", "Stop after this many optimizer steps (-1: no limit).", _max_steps),
    _f("min_steps", None, "int|none", "Loop", "Run at least this many optimizer steps.", _int_at_least(0)),
    _f("max_time", None, "str|dict|none", "Loop",
       'Wall-clock limit as "DD:HH:MM:SS" or a dict such as {"hours": 1}.', _max_time),
    _f("limit_train_batches", 1.0, "float|int", "Loop",
       "Training batches per epoch: a float is a fraction, an int a count.", _limit),
    _f("accumulate_grad_batches", None, "int|dict|none", "Optimization",
       "Step the optimizer every k batches; a dict {epoch: k} changes k by epoch (0-based).", _accumulate),
    # Validation
    _f("check_val_every_n_epoch", 1, "int|none", "Validation", "Validate in every n-th epoch.", _check_val_every),
    _f("val_check_interval", 1.0, "float|int", "Validation",
       "How often to validate within an epoch: a float is a fraction of the epoch, an int every N batches.",
       _val_check_interval),
    _f("num_sanity_val_steps", 2, "int", "Validation",
       "Validation batches run before training as a sanity check (-1: all, 0: off).", _num_sanity),
    _f("limit_val_batches", 1.0, "float|int", "Validation",
       "Validation batches per run: a float is a fraction, an int a count (0 disables validation).", _limit),
    _f("limit_test_batches", 1.0, "float|int", "Validation", "Test batches: fraction (float) or count (int).", _limit),
    _f("limit_predict_batches", 1.0, "float|int", "Validation", "Predict batches: fraction (float) or count (int).",
       _limit),
    _f("reload_dataloaders_every_n_epochs", 0, "int", "Loop",
       "Request the dataloaders again every n epochs (0: load once).", _int_at_least(0, allow_none=False),
       setting="reload_dataloaders"),
    _f("reload_dataloaders_every_epoch", False, "bool", "Loop",
       "1.x spelling of reload_dataloaders_every_n_epochs=1.", _bool, setting="reload_dataloaders", legacy=True),
    # Optimization
    _f("gradient_clip_val", None, "float|none", "Optimization",
       "Clip gradients to this value/norm once per optimizer step (0 or None: off).", _clip_val),
    _f("gradient_clip_algorithm", None, "str|none", "Optimization",
       'How to clip: "norm" (global 2-norm) or "value" (elementwise). Default "norm".',
       _choice("norm", "value"), choices=("norm", "value")),
    _f("track_grad_norm", -1, "float|int|str", "Optimization",
       'Log the p-norm of each gradient and their total (e.g. 2 or "inf"; -1: off).', _track_grad_norm),
    _f("truncated_bptt_steps", None, "int|none", "Optimization",
       "Split each batch along the time dimension (dim 1) into chunks of this length.", _int_at_least(1)),
    # Precision
    _f("precision", 32, "int|str", "Precision",
       'Numeric precision: 32, 16 (mixed), "bf16" (mixed), 64, or a 2.x string such as "16-mixed".', _precision,
       choices=(32, 16, "bf16", 64, "32-true", "16-mixed", "bf16-mixed", "64-true", "16-true", "bf16-true")),
    _f("amp_backend", "native", "str", "Precision",
       'Mixed-precision implementation: "native" (torch.autocast) or "apex" (needs NVIDIA apex).',
       _choice("native", "apex", allow_none=False), choices=("native", "apex"), legacy=True),
    _f("amp_level", None, "str|none", "Precision", "apex optimisation level O0-O3 (apex only).",
       _choice("O0", "O1", "O2", "O3"), choices=("O0", "O1", "O2", "O3"), legacy=True),
    _f("deterministic", False, "bool|str|none", "Precision",
       "Use deterministic algorithms (torch.use_deterministic_algorithms); \"warn\" only warns.", _deterministic),
    _f("benchmark", None, "bool|none", "Precision",
       "Set torch.backends.cudnn.benchmark (None: keep torch's setting, False when deterministic).",
       _optional_bool),
    # Hardware
    _f("accelerator", None, "str|none", "Hardware",
       'Device type "cpu", "gpu", "tpu", "auto" (1.x also accepted a mode such as "ddp").', _accelerator,
       choices=("cpu", "gpu", "cuda", "tpu", "auto")),
    _f("devices", None, "int|str|list|none", "Hardware",
       'Number of devices, a list of indices, -1 for all, or "auto".', _devices, setting="device_count"),
    _f("strategy", None, "str|none", "Hardware", 'Parallel strategy: "dp", "ddp", "ddp_spawn", "ddp_cpu".',
       _strategy, choices=("dp", "ddp", "ddp_spawn", "ddp_cpu")),
    _f("gpus", None, "int|str|list|none", "Hardware",
       'GPUs per node: a count, -1 for all, a list of indices or a string such as "0,2".', _gpus,
       setting="device_count", legacy=True),
    _f("auto_select_gpus", False, "bool", "Hardware", "Pick free GPUs when gpus is a count.", _bool, legacy=True),
    _f("tpu_cores", None, "int|list|none", "Hardware", "TPU cores (1 or 8, or [k]); needs torch_xla.", _tpu_cores,
       setting="device_count", legacy=True),
    _f("num_processes", 1, "int", "Hardware", "CPU processes for ddp_cpu.", _int_at_least(1, allow_none=False),
       setting="device_count", legacy=True),
    _f("num_nodes", 1, "int", "Hardware", "Number of machines; world size = nodes x devices.",
       _int_at_least(1, allow_none=False)),
    _f("sync_batchnorm", False, "bool", "Hardware", "Synchronise BatchNorm statistics across processes.", _bool),
    _f("replace_sampler_ddp", True, "bool", "Hardware",
       "Inject a DistributedSampler under DDP (train shuffled, eval not).", _bool, setting="distributed_sampler",
       legacy=True),
    _f("use_distributed_sampler", True, "bool", "Hardware", "2.x spelling of replace_sampler_ddp.", _bool,
       setting="distributed_sampler"),
    _f("plugins", None, "object|none", "Hardware", "Extra precision/cluster plugins (Python objects).", _plugins),
    _f("prepare_data_per_node", True, "bool", "Hardware",
       "Call prepare_data on local rank 0 of every node (False: only on global rank 0).", _bool),
    # Debugging
    _f("fast_dev_run", False, "bool|int", "Debugging",
       "Run n (True: 1) batches of train, val and test to find bugs; no logs or checkpoints.", _fast_dev_run),
    _f("overfit_batches", 0.0, "float|int", "Debugging",
       "Train (and validate) repeatedly on the same first batches: a fraction (float) or a count (int).",
       _overfit),
    _f("detect_anomaly", False, "bool", "Debugging", "Enable torch.autograd anomaly detection.", _bool),
    _f("terminate_on_nan", False, "bool", "Debugging",
       "Stop when the loss or a parameter becomes NaN or infinite.", _bool, legacy=True),
    _f("profiler", None, "str|none", "Debugging", 'Profile the run: "simple", "advanced" or "pytorch".', _profiler,
       choices=("simple", "advanced", "pytorch")),
    # Tuning
    _f("auto_lr_find", False, "bool|str", "Tuning",
       "trainer.tune() runs the learning-rate finder and writes the suggestion to lr/learning_rate "
       "(or to the named attribute).", _auto_lr),
    _f("auto_scale_batch_size", False, "bool|str", "Tuning",
       'trainer.tune() finds the largest batch size: True/"power", "binsearch" or "fit" (fast fit-and-confirm).',
       _auto_bs, choices=(False, True, "power", "binsearch", "fit")),
    # Logging
    _f("logger", True, "bool|object", "Logging",
       "True: CSV (and TensorBoard when installed) logs in lightning_logs/; False: none; or Logger objects.",
       _logger),
    _f("log_every_n_steps", 50, "int", "Logging", "Send step metrics to the logger every n steps.",
       _int_at_least(1, allow_none=False)),
    _f("flush_logs_every_n_steps", None, "int|none", "Logging", "Write the logger's files every n steps.",
       _int_at_least(1), legacy=True),
    _f("default_root_dir", None, "str|none", "Logging", "Root folder for logs and checkpoints (default: cwd).",
       _str_or_none),
    _f("weights_save_path", None, "str|none", "Logging", "Root folder for checkpoints (default: default_root_dir).",
       _str_or_none, legacy=True),
    _f("log_gpu_memory", None, "str|none", "Logging",
       'Log GPU memory read through NVML: "min_max" or "all".', _choice("min_max", "all"),
       choices=("min_max", "all"), legacy=True),
    _f("enable_progress_bar", True, "bool", "Logging", "Show the console progress bar.", _bool,
       setting="progress_bar"),
    _f("progress_bar_refresh_rate", None, "int|none", "Logging",
       "Redraw the progress bar every n batches (0 disables it).", _refresh_rate, setting="progress_bar",
       legacy=True),
    _f("process_position", 0, "int", "Logging", "Line offset of the progress bar.", _int_at_least(0), legacy=True),
    _f("enable_model_summary", True, "bool", "Logging", "Print the weights summary at the start of fit.", _bool,
       setting="model_summary"),
    _f("weights_summary", "top", "str|none", "Logging",
       'Weights summary printed at fit start: "top", "full" or None.', _choice("top", "full"),
       setting="model_summary", choices=("top", "full"), legacy=True),
    _f("move_metrics_to_cpu", False, "bool", "Logging", "Keep logged metric tensors on the CPU.", _bool, legacy=True),
    # Callbacks
    _f("callbacks", None, "object|none", "Callbacks", "Callback objects added to the run.", _callbacks),
    _f("enable_checkpointing", True, "bool", "Callbacks",
       "Add a default ModelCheckpoint (saves the last epoch) when none is given.", _bool, setting="checkpointing"),
    _f("checkpoint_callback", True, "bool", "Callbacks", "1.x spelling of enable_checkpointing.", _bool,
       setting="checkpointing", legacy=True),
    _f("resume_from_checkpoint", None, "str|none", "Callbacks",
       "1.x: checkpoint to resume from (use fit(ckpt_path=...)).", _str_or_none, legacy=True),
    _f("stochastic_weight_avg", False, "bool", "Callbacks", "Not supported: add an SWA callback instead.", _bool,
       legacy=True),
    _f("multiple_trainloader_mode", "max_size_cycle", "str", "Loop",
       'How several train loaders are combined: "max_size_cycle" or "min_size".',
       _choice("max_size_cycle", "min_size", allow_none=False), choices=("max_size_cycle", "min_size"),
       legacy=True),
    _f("inference_mode", True, "bool", "Validation", "Run evaluation under torch.inference_mode (else no_grad).",
       _bool),
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
    for name in given:
        setting = FLAGS[name].setting
        if not setting:
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
    return resolved


def export_schema() -> str:
    """The schema as JSON text: what the studio reads to build its forms."""
    return json.dumps({"groups": list(FLAG_GROUPS), "flags": [f.describe() for f in _SCHEMA]}, indent=1)
