"""Numerical health of the training step: gradient norms (``track_grad_norm`` and telemetry) and NaN checks.

Nothing here reads a value back to the host unless a flag the user set needs it at that step: the norms stay on the
device until someone reads them, ``terminate_on_nan`` costs one host read per batch, and ``detect_anomaly`` only
rewrites the error PyTorch raises.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["grad_norm_dict", "grad_norm_type", "layer_grad_norms", "check_finite", "AnomalyStep"]

_PLAIN_NORMS = (1.0, 2.0, math.inf)  # p-norms that cannot overflow before the values themselves do


def grad_norm_dict(module: torch.nn.Module, norm_type: float) -> dict[str, torch.Tensor]:
    """Per-parameter gradient p-norms and their total, rounded to 4 decimals, with the 1.5 names.

    ``grad_{p}_norm/{param}`` and ``grad_{p}_norm_total`` (p as a float: ``2.0``, ``inf``). The total is the p-norm of
    the per-parameter norms, which equals the p-norm of all gradients concatenated. Values are 0-d tensors on the
    device, computed with one fused norm over all gradients and a handful of kernels for the total and the rounding
    whatever the number of parameters; nothing is synchronised until someone reads them.
    """
    p = float(norm_type)
    prefix = f"grad_{p}_norm"
    names: list[str] = []
    grads: list[torch.Tensor] = []
    for name, param in module.named_parameters():
        if param.grad is not None:
            names.append(f"{prefix}/{name}")
            grads.append(param.grad.detach())
    if not grads:
        return {}
    device = grads[0].device
    if p in _PLAIN_NORMS:
        norms = torch._foreach_norm(grads, ord=p)
    else:
        # sum(|g|^p) overflows float32 already for |g| ~ 1e4 at p=10: compute max|g| * ||g / max|g|||_p instead.
        peaks = [m.clamp_min(torch.finfo(m.dtype).tiny) for m in torch._foreach_norm(grads, ord=math.inf)]
        norms = torch._foreach_mul(torch._foreach_norm(torch._foreach_div(grads, peaks), ord=p), peaks)
    stacked = torch.stack([n.to(device=device, dtype=torch.float32) for n in norms])
    if p in _PLAIN_NORMS:
        total = torch.linalg.vector_norm(stacked, ord=p)
    else:
        peak = stacked.max().clamp_min(torch.finfo(torch.float32).tiny)
        total = torch.linalg.vector_norm(stacked / peak, ord=p) * peak
    values = torch.round(torch.cat([stacked, total.unsqueeze(0)]), decimals=4)
    names.append(f"{prefix}_total")
    return dict(zip(names, values.unbind(0), strict=True))


def grad_norm_type(trainer: Trainer) -> float | None:
    """The p for this run's gradient norms: ``track_grad_norm``, else the first callback asking for norms.

    A callback (the studio's telemetry, for instance) asks by having an attribute ``grad_norm_type`` set to a p; the
    norms then land in ``trainer.grad_norms`` every optimizer step as device tensors, without being logged.
    """
    if trainer.track_grad_norm != -1:
        return float(trainer.track_grad_norm)
    for callback in trainer.callbacks:
        p = getattr(callback, "grad_norm_type", None)
        if p is not None:
            return float(p)
    return None


def check_finite(t: Trainer, outputs: Any) -> None:
    """``terminate_on_nan``: one host read per batch for the loss and every parameter together."""
    loss = outputs.get("loss") if isinstance(outputs, dict) else None
    if isinstance(outputs, list):  # TBPTT: one output per split
        losses = [o.get("loss") for o in outputs if isinstance(o, dict)]
        loss = torch.stack([x.detach().float().reshape(()) for x in losses if isinstance(x, torch.Tensor)]) \
            if losses else None
    named = list(t.lightning_module.named_parameters())
    params = [p.detach() for _, p in named]
    checks = []
    if isinstance(loss, torch.Tensor):
        checks.append(loss.detach().float().sum().reshape(1))
    if params:
        # The 1-norm of a tensor is finite iff all its elements are: one fused kernel for all parameters.
        checks.append(torch.stack(torch._foreach_norm(params, ord=1)).float())
    if not checks or bool(torch.isfinite(torch.cat([c.to(checks[0].device) for c in checks])).all()):
        return
    # global_step already counts this batch's optimizer step (as checkpoint names do): say so, else it reads off by one.
    stepped_now = t._fit_run is not None and t._fit_run.stepped_this_batch
    stepped = "after this batch's optimizer step" if stepped_now else "no optimizer step in this batch"
    where = f"at epoch {t.current_epoch}, batch {t.batch_idx} (global_step={t.global_step}, {stepped})"
    if isinstance(loss, torch.Tensor) and not bool(torch.isfinite(loss).all()):
        raise ValueError(
            f"terminate_on_nan: the loss returned by training_step is {loss.detach().float().tolist()} {where}. "
            "Lower the learning rate, clip gradients (gradient_clip_val) or check the data for NaN/inf")
    for name, param in named:
        if not bool(torch.isfinite(param).all()):
            raise ValueError(
                f"terminate_on_nan: parameter `{name}` holds nan and/or inf values {where} (after the optimizer "
                "step). Lower the learning rate or clip gradients (gradient_clip_val)")


class AnomalyStep:
    """Under ``detect_anomaly``, name the step when backward finds a NaN (torch names only the function)."""

    __slots__ = ("t", "batch_idx", "loss")

    def __init__(self, t: Trainer, batch_idx: int, loss: torch.Tensor) -> None:
        self.t, self.batch_idx, self.loss = t, batch_idx, loss

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, err: Any, tb: Any) -> bool:
        if isinstance(err, RuntimeError) and "nan" in str(err).lower():
            t = self.t
            raise RuntimeError(
                f"detect_anomaly: backward produced non-finite values at epoch {t.current_epoch}, batch "
                f"{self.batch_idx} (global_step={t.global_step}; training_step returned 'loss' = "
                f"{self.loss.detach().float().tolist()}). {err}"
            ) from err
        return False


def layer_grad_norms(norms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Group per-parameter norms from :func:`grad_norm_dict` by layer (the parameter's module path).

    ``grad_2.0_norm/encoder.0.weight`` and ``grad_2.0_norm/encoder.0.bias`` give ``encoder.0``, the p-norm of the two.
    A few small device kernels per layer and no host read: cheap enough for a live per-layer view.
    """
    totals = [name for name in norms if name.endswith("_total")]
    if not totals:
        return {}
    prefix = totals[0][: -len("_total")]
    p = float(prefix[len("grad_"): -len("_norm")])
    layers: dict[str, list[torch.Tensor]] = {}
    for name, value in norms.items():
        if name.startswith(prefix + "/"):
            layer = name[len(prefix) + 1:].rpartition(".")[0] or name[len(prefix) + 1:]
            layers.setdefault(layer, []).append(value)
    return {layer: values[0] if len(values) == 1 else torch.linalg.vector_norm(torch.stack(values), ord=p)
            for layer, values in layers.items()}
