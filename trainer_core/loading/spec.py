"""What to run: :class:`RunSpec`, the description the command line, the studio's worker and sweeps build.

It lives apart from :mod:`trainer_core.runner` (which executes it) so that the loading helpers that read a spec do
not import the runner that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trainer_core.loading.config import check_config
from trainer_core.loading.errors import ConfigError

__all__ = ["MODES", "DEBUG_MODES", "RunSpec"]

MODES = ("fit", "validate", "test", "predict", "tune", "debug")
DEBUG_MODES = ("fast_dev_run", "overfit_batches", "batch_independence")


@dataclass
class RunSpec:
    """What to run. See the module docstring; ``to_config``/``from_config`` give the ``--config`` YAML shape.

    Attributes:
        mode: one of :data:`MODES`.
        model_script: path of the user's ``.py`` file.
        model_class: the LightningModule class in it; None picks the only one.
        model_init_args: constructor arguments.
        data: ``{"script", "class", "init_args"}`` for a LightningDataModule, ``{"path", ...loader options}`` for a
            data file or folder, or None to use the model's own ``*_dataloader`` methods.
        trainer_flags: Trainer keyword flags (class_path dicts allowed for callbacks/logger/profiler).
        ckpt_path: resume (fit/debug) or weights (validate/test/predict); "best"/"last" allowed where the Trainer
            allows them.
        tune: ``{"lr_find", "scale_batch_size", "lr_find_kwargs", "scale_batch_size_kwargs"}`` for mode "tune";
            with neither finder asked for (here or by the auto_* flags) the LR finder runs.
        debug: "fast_dev_run", "overfit_batches" or "batch_independence" (mode "debug"; the last one checks that
            the model does not mix samples across the batch and prints the answer instead of training).
        seed: passed to ``seed_everything`` before the model is built, when set.
        trust_checkpoint: load ``ckpt_path`` with full unpickling (it may run code: only for trusted files).
    """

    mode: str
    model_script: str
    model_class: str | None = None
    model_init_args: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    trainer_flags: dict[str, Any] = field(default_factory=dict)
    ckpt_path: str | None = None
    tune: dict[str, Any] = field(default_factory=dict)
    debug: str = "fast_dev_run"
    seed: int | None = None
    trust_checkpoint: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any], mode: str) -> RunSpec:
        """A spec from a config dict in the ``--config`` shape (checked first)."""
        checked = check_config(config)
        model = checked.get("model")
        if not model:
            raise ConfigError("No model given: pass --model SCRIPT.py[:CLASS] (in a config file: model.script).")
        return cls(
            mode=mode,
            model_script=model["script"],
            model_class=model.get("class"),
            model_init_args=dict(model.get("init_args") or {}),
            data=dict(checked["data"]) if checked.get("data") else None,
            trainer_flags=dict(checked.get("trainer", {})),
            ckpt_path=checked.get("ckpt_path"),
            tune=dict(checked.get("tune", {})),
            debug=checked.get("debug", "fast_dev_run"),
            seed=checked.get("seed_everything"),
        )

    def to_config(self) -> dict[str, Any]:
        """The spec in the ``--config`` shape (without the mode, which is the subcommand)."""
        config: dict[str, Any] = {
            "trainer": dict(self.trainer_flags),
            "model": {"script": self.model_script, "class": self.model_class, "init_args": dict(self.model_init_args)},
        }
        if self.data:
            config["data"] = dict(self.data)
        if self.ckpt_path:
            config["ckpt_path"] = self.ckpt_path
        if self.seed is not None:
            config["seed_everything"] = self.seed
        if self.tune:
            config["tune"] = dict(self.tune)
        if self.mode == "debug" and self.debug != "fast_dev_run":
            config["debug"] = self.debug
        return config
