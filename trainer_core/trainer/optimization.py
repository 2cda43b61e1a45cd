"""One training batch under automatic or manual optimization (1.5 order; the loop map is in ``trainer_core.hooks``).

Read :func:`automatic_batch` first. Per optimizer, one :class:`TrainingClosure` holds the batch's work in 1.x order
(``training_step`` -> ``training_step_end`` -> zero_grad at an accumulation window's start -> backward of the loss
divided by the accumulation factor; then, when this batch steps, unscale -> ``on_before_optimizer_step`` ->
grad-norm tracking -> clipping). On a stepping batch the closure runs *inside* ``optimizer.step(closure)`` through the
module's ``optimizer_step`` hook, as in Lightning 1.x, so optimizers that evaluate their closure (LBFGS, SAM-style
ones) get the real thing; while accumulating, the closure is called directly. The hot path avoids anything unused:
the dispatcher skips hooks nobody implements, and the fit's :class:`~trainer_core.trainer.fit_run.FitRun` says
whether the forward is plain and whether clipping runs.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.trainer.fit_run import FitRun, profile, timed
from trainer_core.trainer.numerics import AnomalyStep, grad_norm_dict
from trainer_core.utilities.apply import apply_to_tensors

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["automatic_batch", "manual_batch", "format_epoch_outputs", "TrainingClosure"]

_NULL = nullcontext()
_FIRST_ONLY = [0]
_NO_OPTIMIZER: list[int | None] = [None]


def automatic_batch(t: Trainer, run: FitRun, batch: Any, batch_idx: int, is_last: bool, tbptt: int) -> Any:
    """One batch: for each TBPTT split, each optimizer whose turn it is runs its closure (and steps at a window end)."""
    k = run.accumulate
    should_step = (batch_idx + 1) % k == 0 or is_last
    window_start = batch_idx % k == 0
    active = _active_optimizers(t, batch_idx) or _NO_OPTIMIZER
    multi = len(t.optimizers) > 1
    if not tbptt and not multi:  # the common case: one optimizer (or none), one split
        return _optimizer_turn(t, run, [batch, batch_idx], batch_idx, active[0], False, should_step, window_start)
    if tbptt:
        with profile(t, "tbptt_split_batch"):
            splits = t._hooks.module("tbptt_split_batch", batch, tbptt)
    else:
        splits = [batch]
    per_split: list[Any] = []
    hiddens = None
    for split_idx, split in enumerate(splits):
        if tbptt:
            t.split_idx = split_idx
        per_opt = []
        for opt_idx in active:
            args: list[Any] = [split, batch_idx]
            if multi:
                args.append(opt_idx)
            if tbptt:
                args.append(hiddens)
            per_opt.append(_optimizer_turn(t, run, args, batch_idx, opt_idx, multi, should_step, window_start))
        if tbptt:
            hiddens = _pop_hiddens(per_opt)
        per_split.append(per_opt if multi else per_opt[0])
    return per_split if tbptt else per_split[0]


def _active_optimizers(t: Trainer, batch_idx: int) -> list[int]:
    """The optimizers whose turn it is (all of them, or one by the ``frequency`` rotation)."""
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


def _optimizer_turn(t: Trainer, run: FitRun, args: list[Any], batch_idx: int, opt_idx: int | None, multi: bool,
                    should_step: bool, window_start: bool) -> Any:
    """One optimizer's share of a batch: its closure, run inside its step on a stepping batch."""
    module = t.lightning_module
    opt = t.optimizers[opt_idx] if opt_idx is not None else None
    if multi:
        module.toggle_optimizer(opt, opt_idx)
    closure = TrainingClosure(t, run, args, batch_idx, opt, opt_idx, window_start, should_step and opt is not None)
    if opt is not None and should_step:
        _optimizer_step(t, run, batch_idx, opt_idx, closure)
    else:
        closure()  # accumulating (or no optimizer): forward and backward only
    if multi:
        module.untoggle_optimizer(opt_idx)
    return _format_output(closure.output)


class TrainingClosure:
    """``training_step`` + zero_grad + backward (+ the pre-step work when the batch steps), as one callable.

    Calling it returns the loss (None when ``training_step`` returned None: no backward, no step). ``calls`` counts
    evaluations, so the loop can tell an ``optimizer_step`` override that never ran it.
    """

    __slots__ = ("_t", "_run", "_args", "_batch_idx", "_opt", "_opt_idx", "_window_start", "_stepping", "output",
                 "loss", "calls")

    def __init__(self, t: Trainer, run: FitRun, args: list[Any], batch_idx: int, opt: torch.optim.Optimizer | None,
                 opt_idx: int | None, window_start: bool, stepping: bool) -> None:
        self._t, self._run, self._args, self._batch_idx = t, run, args, batch_idx
        self._opt, self._opt_idx, self._window_start, self._stepping = opt, opt_idx, window_start, stepping
        self.output: Any = None
        self.loss: torch.Tensor | None = None
        self.calls = 0

    def __call__(self) -> torch.Tensor | None:
        self.calls += 1
        loss = timed(self._run, self._t, "training_step_and_backward", self._step_and_backward)
        if loss is not None and self._stepping:
            self._before_optimizer_step()
        return loss

    def _step_and_backward(self) -> torch.Tensor | None:
        self.output = output = self._training_step()
        self.loss = loss = _loss_of(output, "training_step")
        if loss is None or self._opt is None:
            return loss
        if self._window_start:
            self._zero_grad()
        self._backward(loss)
        return loss

    def _training_step(self) -> Any:
        t, hooks = self._t, self._t._hooks
        if self._run.plain_forward:
            output = t.strategy.training_step(t, *self._args)
        else:
            with t._precision.forward_context(), profile(t, "training_step"):
                output = t.strategy.training_step(t, *self._args)
        if self._run.step_end:
            output = hooks.module("training_step_end", output)
        return output

    def _zero_grad(self) -> None:
        t, hooks = self._t, self._t._hooks
        hooks.call("on_before_zero_grad", self._opt)
        timed(self._run, t, "zero_grad", hooks.module, "optimizer_zero_grad", t.progress.current_epoch,
              self._batch_idx, self._opt, self._opt_idx)

    def _backward(self, loss: torch.Tensor) -> None:
        hooks = self._t._hooks
        k = self._run.accumulate
        scaled = loss / k if k > 1 else loss
        hooks.call("on_before_backward", scaled)
        if self._run.plain_backward and self._stepping:  # nothing to wrap it in: the common case
            hooks.module("backward", scaled, self._opt, self._opt_idx)
        else:
            self._wrapped_backward(scaled, loss)
        hooks.call("on_after_backward")

    def _wrapped_backward(self, scaled: torch.Tensor, loss: torch.Tensor) -> None:
        """Backward through the precision plugin, in the profiler region, anomaly detection and the sync guard."""
        t, hooks, opt, opt_idx = self._t, self._t._hooks, self._opt, self._opt_idx
        # Gradients are synchronised across ranks only on the batch that steps.
        sync = t.strategy.block_backward_sync(t._model) if not self._stepping else _NULL
        anomaly = AnomalyStep(t, self._batch_idx, loss) if t.detect_anomaly else _NULL
        with profile(t, "backward"), sync, anomaly:
            t._precision.backward(scaled, lambda value: hooks.module("backward", value, opt, opt_idx))

    def _before_optimizer_step(self) -> None:
        t, run, hooks, opt = self._t, self._run, self._t._hooks, self._opt
        if t._precision.scaler is not None:
            t._precision.unscale_gradients(opt)
        hooks.call("on_before_optimizer_step", opt, self._opt_idx)
        if run.grad_norm_type is not None and self._opt_idx == 0:
            norms = grad_norm_dict(t.lightning_module, run.grad_norm_type)
            t.grad_norms = norms
            if norms and t.track_grad_norm != -1:
                hooks.module("log_grad_norm", norms)
        if run.clipping:
            hooks.module("configure_gradient_clipping", opt, self._opt_idx, t.gradient_clip_val,
                         t.gradient_clip_algorithm)


def _optimizer_step(t: Trainer, run: FitRun, batch_idx: int, opt_idx: int, closure: TrainingClosure) -> None:
    """The module's ``optimizer_step`` hook, which runs the closure inside ``optimizer.step(closure)``."""
    action = f"optimizer_step_with_closure_{opt_idx}" if run.profiling else ""
    timed(run, t, action, t._hooks.module, "optimizer_step", t.progress.current_epoch, batch_idx,
          t._lightning_optimizers[opt_idx], opt_idx, closure, on_tpu=False,
          using_native_amp=t._precision.scaler is not None,
          using_lbfgs=isinstance(t.optimizers[opt_idx], torch.optim.LBFGS))
    if not closure.calls:
        raise MisconfigurationError(
            "The closure hasn't been executed: training_step, zero_grad and backward run inside the closure that "
            "optimizer_step receives. Call `optimizer.step(closure=optimizer_closure)` (or `optimizer_closure()`) "
            "in your optimizer_step override")
    if closure.loss is not None:
        t.progress.global_step += 1
        run.stepped_this_batch = True
        run.stepped_optimizers.append(opt_idx)


def _pop_hiddens(per_opt: list[Any]) -> Any:
    """TBPTT: the last optimizer's ``hiddens`` (detached) for the next split; removed from every output."""
    last = per_opt[-1]
    hiddens = _detach(last.get("hiddens")) if isinstance(last, dict) else None
    for out in per_opt:
        if isinstance(out, dict):
            out.pop("hiddens", None)
    return hiddens


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


def manual_batch(t: Trainer, batch: Any, batch_idx: int, tbptt: int) -> Any:
    """Manual optimization: ``training_step`` does its own backward and steps; the loop only collects outputs."""
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


def format_epoch_outputs(t: Trainer, outputs: list[tuple[int, Any]], tbptt: int) -> Any:
    """``training_epoch_end``'s input: per optimizer lists when several optimizers ran automatically (1.5 layout).

    Under manual optimization the outputs are the training_step returns as they are (``[]`` when all were None).
    """
    if len(t.optimizers) > 1 and not tbptt and t.lightning_module.automatic_optimization:
        per_optimizer: list[list[Any]] = [[] for _ in t.optimizers]
        for batch_idx, batch_outputs in outputs:
            # With "frequency" rotation only the optimizer whose turn it was has an output for the batch.
            for opt_idx, output in zip(_active_optimizers(t, batch_idx), batch_outputs):
                per_optimizer[opt_idx].append(output)
        return per_optimizer
    return [batch_outputs for _, batch_outputs in outputs]
