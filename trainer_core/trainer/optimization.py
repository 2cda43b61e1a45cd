"""One training batch under automatic or manual optimization (1.5 order; see ``trainer_core.hooks``).

Per optimizer step: closure (training_step, zero_grad at a window start, backward of the loss divided by the
accumulation factor) -> unscale -> ``on_before_optimizer_step`` -> grad-norm tracking -> clipping -> step. The hot
path avoids anything that is not needed: no context managers without a profiler or autocast, no clipping hook call
when clipping is off and not overridden, no closure handed to ``optimizer.step`` when it would do nothing.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.module import LightningModule
from trainer_core.precision.plugins import Precision, StepClosure
from trainer_core.trainer.numerics import AnomalyStep, grad_norm_dict
from trainer_core.utilities.apply import apply_to_tensors

__all__ = ["automatic_batch", "manual_batch", "format_epoch_outputs", "profile", "live_hooks"]

_NULL = nullcontext()
_FIRST_ONLY = [0]
_DEFAULT_CLIPPING = LightningModule.configure_gradient_clipping
_DEFAULT_CLIP = LightningModule.clip_gradients


# Hooks fired on every batch: the loop tests membership in the fit's live set before dispatching them.
_PER_BATCH_HOOKS = ("on_batch_start", "on_train_batch_start", "on_before_zero_grad", "on_before_backward",
                    "on_after_backward", "on_before_optimizer_step", "on_train_batch_end", "on_batch_end")


def live_hooks(trainer: Any) -> frozenset[str]:
    """The per-batch hooks some callback or the module overrides (set once per fit; the others are skipped)."""
    hooks = trainer._hooks
    return frozenset(h for h in _PER_BATCH_HOOKS if hooks.has_callbacks(h) or hooks.module_overrides(h))


def profile(trainer: Any, action: str) -> Any:
    """The profiler region for ``action``, or a shared no-op context when nothing is profiled."""
    return trainer.profiler.profile(action) if trainer._profiling else _NULL


def _active_optimizers(t: Any, batch_idx: int) -> list[int]:
    if not t.optimizers:
        return []
    if len(t.optimizers) == 1:
        return _FIRST_ONLY
    freqs = t.optimizer_frequencies
    if not freqs:
        return list(range(len(t.optimizers)))
    position = batch_idx % sum(freqs)
    for idx, freq in enumerate(freqs):
        if position < freq:
            return [idx]
        position -= freq
    return [0]


def automatic_batch(t: Any, batch: Any, batch_idx: int, is_last: bool, tbptt: int) -> Any:
    k = t.accumulate_grad_batches
    should_step = (batch_idx + 1) % k == 0 or is_last
    window_start = batch_idx % k == 0
    if tbptt:
        with profile(t, "tbptt_split_batch"):
            splits = t._hooks.module("tbptt_split_batch", batch, tbptt)
    else:
        splits = [batch]
    active = _active_optimizers(t, batch_idx)
    multi = len(t.optimizers) > 1
    per_split: list[Any] = []
    hiddens = None
    for split_idx, split in enumerate(splits):
        if tbptt:
            t.split_idx = split_idx
        per_opt = []
        for opt_idx in active or [None]:
            out = _run_optimization(t, split, batch_idx, opt_idx, hiddens, should_step, window_start, k, multi,
                                    bool(tbptt))
            per_opt.append(out)
        if tbptt:
            last = per_opt[-1]
            hiddens = _detach(last.get("hiddens")) if isinstance(last, dict) else None
            for out in per_opt:
                if isinstance(out, dict):
                    out.pop("hiddens", None)
        per_split.append(per_opt if multi else per_opt[0])
    if tbptt:
        return per_split
    return per_split[0]


def _detach(value: Any) -> Any:
    return apply_to_tensors(value, lambda x: x.detach()) if value is not None else None


def _loss_of(output: Any, where: str) -> torch.Tensor | None:
    if output is None:
        return None
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict):
        if "loss" not in output:
            raise MisconfigurationError(
                f"{where} returned a dict without a 'loss' key (keys: {sorted(output)}); return the loss tensor or "
                "a dict with 'loss'")
        return output["loss"]
    raise MisconfigurationError(
        f"{where} must return a loss tensor, a dict with 'loss', or None to skip the batch; got "
        f"{type(output).__name__}")


def _format_output(output: Any) -> Any:
    """What hooks and epoch-end see: the loss detached, other tensors detached too."""
    if output is None:
        return None
    if isinstance(output, torch.Tensor):
        return {"loss": output.detach()}
    return {key: _detach(value) if key != "hiddens" else value for key, value in output.items()}


def _run_optimization(t: Any, split: Any, batch_idx: int, opt_idx: int | None, hiddens: Any, should_step: bool,
                      window_start: bool, k: int, multi: bool, tbptt: bool) -> Any:
    hooks, module, precision, live = t._hooks, t.lightning_module, t._precision, t._live_hooks
    clip_overridden = (type(module).configure_gradient_clipping is not _DEFAULT_CLIPPING
                       or type(module).clip_gradients is not _DEFAULT_CLIP)
    # Full precision and no profiler: call training_step directly, without two no-op context managers.
    plain_forward = not t._profiling and type(precision).forward_context is Precision.forward_context
    opt = t.optimizers[opt_idx] if opt_idx is not None else None
    if multi:
        module.toggle_optimizer(opt, opt_idx)
    state: dict[str, Any] = {}

    def closure() -> torch.Tensor | None:
        with profile(t, "training_step_and_backward"):
            args: list[Any] = [split, batch_idx]
            if multi:
                args.append(opt_idx)
            if tbptt:
                args.append(hiddens)
            if plain_forward:
                output = t.strategy.training_step(t, *args)
            else:
                with precision.forward_context(), profile(t, "training_step"):
                    output = t.strategy.training_step(t, *args)
            if hooks.module_overrides("training_step_end"):
                output = hooks.module("training_step_end", output)
            loss = _loss_of(output, "training_step")
            state["output"] = output
            state["loss"] = loss
            if loss is None or opt is None:
                return loss
            if window_start:
                if "on_before_zero_grad" in live:
                    hooks.call("on_before_zero_grad", opt)
                with profile(t, "zero_grad"):
                    hooks.module("optimizer_zero_grad", t.current_epoch, batch_idx, opt, opt_idx)
            scaled = loss / k if k > 1 else loss
            if "on_before_backward" in live:
                hooks.call("on_before_backward", scaled)
            sync = t.strategy.block_backward_sync(t._model) if not should_step else _NULL
            anomaly = AnomalyStep(t, batch_idx, loss) if t.detect_anomaly else _NULL
            with profile(t, "backward"), sync, anomaly:
                precision.backward(scaled, lambda value: hooks.module("backward", value, opt, opt_idx))
            if "on_after_backward" in live:
                hooks.call("on_after_backward")
            return loss

    def before_step() -> None:
        if precision.scaler is not None:
            precision.unscale_gradients(opt)
        if "on_before_optimizer_step" in live:
            hooks.call("on_before_optimizer_step", opt, opt_idx)
        if t._grad_norm_type is not None and opt_idx == 0:
            norms = grad_norm_dict(module, t._grad_norm_type)
            t.grad_norms = norms
            if norms and t.track_grad_norm != -1:
                hooks.module("log_grad_norm", norms)
        if t.gradient_clip_val or clip_overridden:
            hooks.module("configure_gradient_clipping", opt, opt_idx, t.gradient_clip_val,
                         t.gradient_clip_algorithm)

    if isinstance(opt, torch.optim.LBFGS) and should_step:
        # LBFGS re-evaluates the closure itself: give it the whole step.
        def full_closure() -> Any:
            loss = closure()
            before_step()
            return loss

        _optimizer_step(t, batch_idx, opt_idx, full_closure)
    else:
        loss = closure()
        if loss is not None and opt is not None and should_step:
            before_step()
            _optimizer_step(t, batch_idx, opt_idx, StepClosure(loss))
    if multi:
        module.untoggle_optimizer(opt_idx)
    return _format_output(state.get("output"))


def _optimizer_step(t: Any, batch_idx: int, opt_idx: int, closure: Any) -> None:
    with profile(t, f"optimizer_step_with_closure_{opt_idx}"):
        t._hooks.module("optimizer_step", t.current_epoch, batch_idx, t._lightning_optimizers[opt_idx], opt_idx,
                        closure, on_tpu=False, using_native_amp=t._precision.scaler is not None,
                        using_lbfgs=isinstance(t.optimizers[opt_idx], torch.optim.LBFGS))
    t.progress.global_step += 1
    t._stepped_this_batch = True


def manual_batch(t: Any, batch: Any, batch_idx: int, tbptt: int) -> Any:
    hooks, precision = t._hooks, t._precision
    splits = hooks.module("tbptt_split_batch", batch, tbptt) if tbptt else [batch]
    outputs, hiddens = [], None
    for split_idx, split in enumerate(splits):
        args: list[Any] = [split, batch_idx] + ([hiddens] if tbptt else [])
        if tbptt:
            t.split_idx = split_idx
        with precision.forward_context(), profile(t, "training_step"):
            output = t.strategy.training_step(t, *args)
        if hooks.module_overrides("training_step_end"):
            output = hooks.module("training_step_end", output)
        if tbptt and isinstance(output, dict):
            hiddens = _detach(output.pop("hiddens", None))
        outputs.append(_format_output(output) if isinstance(output, (torch.Tensor, dict)) else output)
    return outputs if tbptt else outputs[0]


def format_epoch_outputs(t: Any, outputs: list[Any], tbptt: int) -> Any:
    if len(t.optimizers) > 1 and not tbptt:
        return [[batch[i] for batch in outputs] for i in range(len(t.optimizers))]
    return outputs
