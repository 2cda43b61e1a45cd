"""``QuantizationAwareTraining`` (1.x): train with fake quantization (``torch.ao.quantization``), then convert the
model to an int8 model when fit ends."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.ao import quantization as tq

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["QuantizationAwareTraining"]

_STAGES = ("train", "validate", "test", "predict")


def _wrap_forward(module: nn.Module, condition: Callable[[], bool]) -> None:
    """Quantize the input and dequantize the output of ``module.forward`` (while ``condition()`` holds)."""
    forward = module.forward

    @functools.wraps(forward)
    def quantized_forward(*args: Any, **kwargs: Any) -> Any:
        if not condition():
            return forward(*args, **kwargs)
        args = tuple(module.quant(a) if isinstance(a, torch.Tensor) else a for a in args)
        return module.dequant(forward(*args, **kwargs))

    module.forward = quantized_forward  # type: ignore[method-assign]


class QuantizationAwareTraining(Callback):
    """Quantization-aware training with 1.5's arguments.

    Args:
        qconfig: a backend name (``"fbgemm"`` for x86, ``"qnnpack"`` for ARM) or a ``QConfig``.
        observer_type: ``"average"`` (moving-average min/max observers) or ``"histogram"``.
        collect_quantization: None to always fake-quantize, an int N to do it every N-th batch, or a function
            ``trainer -> bool``.
        modules_to_fuse: lists of submodule names fused first (``[["conv", "bn", "relu"]]``).
        input_compatible: keep float inputs and outputs (quantize/dequantize inside ``forward``).
        quantize_on_fit_end: convert the model to int8 when fit ends.
        observer_enabled_stages: the stages in which observers collect statistics.
    """

    def __init__(self, qconfig: str | tq.QConfig = "fbgemm", observer_type: str = "average",
                 collect_quantization: int | Callable[[Any], bool] | None = None,
                 modules_to_fuse: Sequence[Sequence[str]] | None = None, input_compatible: bool = True,
                 quantize_on_fit_end: bool = True, observer_enabled_stages: Sequence[str] = ("train",)) -> None:
        if isinstance(qconfig, str) and qconfig not in torch.backends.quantized.supported_engines:
            raise MisconfigurationError(
                f"QuantizationAwareTraining(qconfig={qconfig!r}): this PyTorch supports the quantization backends "
                f"{torch.backends.quantized.supported_engines}")
        if observer_type not in ("average", "histogram"):
            raise MisconfigurationError(f"QuantizationAwareTraining(observer_type={observer_type!r}): give "
                                        "\"average\" or \"histogram\"")
        if collect_quantization is not None and not callable(collect_quantization) and (
                not isinstance(collect_quantization, int) or collect_quantization < 1):
            raise MisconfigurationError(f"QuantizationAwareTraining(collect_quantization={collect_quantization!r}): "
                                        "give None, an int >= 1 or a function of the trainer")
        unknown = [stage for stage in observer_enabled_stages if stage not in _STAGES]
        if unknown:
            raise MisconfigurationError(f"QuantizationAwareTraining(observer_enabled_stages=...): unknown stage(s) "
                                        f"{unknown}; use {', '.join(_STAGES)}")
        self._qconfig = qconfig
        self._observer_type = observer_type
        self._collect_quantization = collect_quantization
        self._modules_to_fuse = [list(group) for group in modules_to_fuse or []]
        self._input_compatible = input_compatible
        self._convert_on_fit_end = quantize_on_fit_end
        self._observer_stages = tuple(observer_enabled_stages)
        self._trainer: Any = None

    def _collect(self) -> bool:
        trainer, every = self._trainer, self._collect_quantization
        if every is None or trainer is None:
            return True
        if callable(every):
            return bool(every(trainer))
        return trainer.batch_idx % every == 0

    def _qconfig_for(self) -> tq.QConfig:
        if not isinstance(self._qconfig, str):
            return self._qconfig
        if self._observer_type == "histogram":
            return tq.QConfig(activation=tq.FakeQuantize.with_args(observer=tq.HistogramObserver, quant_min=0,
                                                                   quant_max=255, reduce_range=True),
                              weight=tq.default_weight_fake_quant)
        return tq.get_default_qat_qconfig(self._qconfig)

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        self._trainer = trainer
        if isinstance(self._qconfig, str):
            torch.backends.quantized.engine = self._qconfig
        pl_module.quant = tq.QuantStub()
        pl_module.dequant = tq.DeQuantStub()
        _wrap_forward(pl_module, self._collect)
        if self._modules_to_fuse:
            pl_module.eval()  # conv-bn fusion for QAT keeps the batch norm: fuse_modules_qat needs train mode
            tq.fuse_modules_qat(pl_module.train(), self._modules_to_fuse, inplace=True)
        pl_module.qconfig = self._qconfig_for()
        tq.prepare_qat(pl_module.train(), inplace=True)

    def _observers(self, pl_module: Any, stage: str) -> None:
        pl_module.apply(tq.enable_observer if stage in self._observer_stages else tq.disable_observer)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._observers(pl_module, "train")

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        if not self._converted(pl_module):
            self._observers(pl_module, "validate")

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.state.stage == "fit" and not self._converted(pl_module):
            self._observers(pl_module, "train")

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        if not self._converted(pl_module):
            self._observers(pl_module, "test")

    def on_predict_start(self, trainer: Any, pl_module: Any) -> None:
        if not self._converted(pl_module):
            self._observers(pl_module, "predict")

    @staticmethod
    def _converted(pl_module: Any) -> bool:
        return getattr(pl_module, "_quantized", False)

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        if not self._convert_on_fit_end:
            return
        pl_module.eval()
        tq.convert(pl_module, inplace=True)
        object.__setattr__(pl_module, "_quantized", True)
        if not self._input_compatible:
            pl_module.forward = type(pl_module).forward.__get__(pl_module)  # type: ignore[method-assign]
