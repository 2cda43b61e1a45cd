"""The fit loop: epochs, batches, and the automatic-optimization step (1.5 order; see ``trainer_core.hooks``)."""

from __future__ import annotations

import logging
import math
from contextlib import nullcontext
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.module import LightningModule
from trainer_core.precision.plugins import Precision, StepClosure
from trainer_core.seed import capture_rng_state, restore_rng_state
from trainer_core.trainer import data as data_utils
from trainer_core.trainer.eval_loop import load_eval_loaders, publish_epoch_metrics, run_validation
from trainer_core.trainer.logging_utils import log_to_loggers, step_metrics_payload
from trainer_core.trainer.optimizers import step_schedulers
from trainer_core.trainer.results import ResultCollection
from trainer_core.trainer.tbptt import check_tbptt_signature
from trainer_core.trainer.transfer import batch_size_of, transfer_batch
from trainer_core.utilities.apply import apply_to_tensors

__all__ = ["run_fit", "grad_norm_dict", "grad_norm_type"]

log = logging.getLogger("trainer_core")

_NULL = nullcontext()
_PLAIN_NORMS = (1.0, 2.0, math.inf)  # p-norms that cannot overflow before the values themselves do
_SKIP_EPOCH = object()
_FIRST_ONLY = [0]
_DEFAULT_CLIPPING = LightningModule.configure_gradient_clipping
_DEFAULT_CLIP = LightningModule.clip_gradients


def _profile(trainer: Any, action: str) -> Any:
    return trainer.profiler.profile(action) if trainer._profiling else _NULL


def run_fit(trainer: Any) -> None:
    t, hooks, module = trainer, trainer._hooks, trainer.lightning_module
    t._profiling = not getattr(t.profiler, "is_passthrough", type(t.profiler).__name__ == "PassThroughProfiler")
    t._grad_norm_type = grad_norm_type(t)
    if t._profiling and hasattr(t.profiler, "register_module"):
        t.profiler.register_module(module)  # PyTorchProfiler: per-module forward scopes (removed at teardown)
    hooks.call("on_fit_start")
    hooks.call("on_pretrain_routine_start")
    hooks.call("on_pretrain_routine_end")
    _log_hyperparams(t)
    t._val_loaders_loaded = False
    t._overfit_source = None
    t._val_enabled = _validation_defined(t)
    if t._val_enabled and t.num_sanity_val_steps > 0 and not _resuming(t):
        _run_sanity_check(t)
    module.train()
    _load_train_loader(t)
    if t.num_training_batches == 0:
        log.info("limit_train_batches selects no training batch: skipping training")
    else:
        hooks.call("on_train_start")
        _run_epochs(t)
        hooks.call("on_train_end")
    for logger in t.loggers:
        logger.save()
    t._finalize_loggers("success")
    hooks.call("on_fit_end")


def _resuming(t: Any) -> bool:
    return bool(t._resume_skip_batches or t._resume_epoch_end or t.global_step)


def _validation_defined(t: Any) -> bool:
    if not t._hooks.module_overrides("validation_step"):
        return False
    from trainer_core.module import LightningModule

    return type(t.lightning_module).validation_step is not getattr(LightningModule, "validation_step", None) and \
        t.limit_val_batches != 0


def _log_hyperparams(t: Any) -> None:
    if not t.loggers or not t.is_global_zero:
        return
    params: dict[str, Any] = {}
    module, dm = t.lightning_module, t.datamodule
    if getattr(module, "_log_hyperparams", True):
        params.update(module.hparams)
    if dm is not None and getattr(dm, "_log_hyperparams", True):
        params.update(dm.hparams)
    for logger in t.loggers:
        logger.log_hyperparams(params)


def _run_sanity_check(t: Any) -> None:
    hooks = t._hooks
    hooks.callbacks("on_sanity_check_start")
    load_eval_loaders(t, "val")
    limits = [min(t.num_sanity_val_steps, n) for n in t.num_val_batches]
    t.num_sanity_val_batches = limits
    if sum(limits) > 0:
        t.state.sanity_checking = True
        saved_metrics = dict(t.callback_metrics)
        try:
            run_validation(t, limits=limits, sanity=True)
        finally:
            t.state.sanity_checking = False
        # Metrics logged in the sanity check are discarded.
        t.callback_metrics.clear()
        t.callback_metrics.update(saved_metrics)
        t._progress_bar_tensors.clear()
    hooks.callbacks("on_sanity_check_end")


def _load_train_loader(t: Any) -> None:
    hooks = t._hooks
    hooks.module("on_train_dataloader")
    loader = _train_loader(t)
    t.train_dataloader = loader
    t.num_training_batches = data_utils.num_batches(loader, t.limit_train_batches, "train")
    if t.overfit_batches > 0:
        t._overfit_source = loader
    _compute_val_check_batch(t)
    if t.num_training_batches not in (0, math.inf) and t.num_training_batches < t.log_every_n_steps \
            and t.loggers and not t.fast_dev_run:
        log.warning("The number of training batches (%d) is smaller than log_every_n_steps=%d: step metrics "
                    "reach the logger rarely. Set log_every_n_steps lower", t.num_training_batches,
                    t.log_every_n_steps)


def _train_loader(t: Any) -> Any:
    """The training loader as the loop iterates it: combined, sequential under overfit_batches, DDP-ready."""
    loader = _source(t, "train")
    if loader is None:
        raise MisconfigurationError(
            f"No training data: {type(t.lightning_module).__name__} has no train_dataloader() and none was passed. "
            "Define train_dataloader() in the module or a LightningDataModule, or call "
            "trainer.fit(model, train_dataloaders=DataLoader(...))")
    loader = data_utils.combine_train_loaders(loader, t.multiple_trainloader_mode)
    return data_utils.prepare_loader(loader, shuffle_for_ddp=True, sequential=t.overfit_batches > 0,
                                     strategy=t.strategy, use_distributed_sampler=t.use_distributed_sampler)


def overfit_eval_loaders(t: Any, count: int) -> list[Any]:
    """``overfit_batches`` (1.5): ``count`` sequential copies of the training loader stand in for val/test loaders.

    Inside fit the loop's own training loader is reused; the sanity check (which runs before it is built) and a
    stand-alone validate/test build it from the usual source.
    """
    source = getattr(t, "_overfit_source", None)
    if source is None:
        source = t._overfit_source = _train_loader(t)
    return [source] * max(count, 1)


def _source(t: Any, kind: str) -> Any:
    """The loader for ``kind`` from fit() arguments, the datamodule, or the module (in that order)."""
    given = getattr(t, "_given_loaders", {})
    for key in ("train_dataloaders",) if kind == "train" else ("val_dataloaders", "dataloaders"):
        if given.get(key) is not None:
            return given[key]
    method = f"{kind}_dataloader"
    dm = t.datamodule
    if dm is not None and hasattr(dm, method):
        return getattr(dm, method)()
    if hasattr(t.lightning_module, method):
        return t._hooks.module(method) if t._hooks.module_overrides(method) else getattr(t.lightning_module,
                                                                                          method)()
    return None


def _compute_val_check_batch(t: Any) -> None:
    interval, n = t.val_check_interval, t.num_training_batches
    if isinstance(interval, int):
        if n != math.inf and interval > n and t.check_val_every_n_epoch is not None:
            raise MisconfigurationError(
                f"val_check_interval={interval} must be <= the number of training batches ({n}). Lower it, or set "
                "limit_val_batches=0 to turn validation off")
        t.val_check_batch = interval
    elif n == math.inf:
        if interval != 1.0:
            raise MisconfigurationError(
                f"val_check_interval={interval} is a fraction, but the training dataloader has no length; use 1.0 "
                "or an int number of batches")
        t.val_check_batch = math.inf
    else:
        t.val_check_batch = max(1, int(n * interval))


def _run_epochs(t: Any) -> None:
    progress = t.progress
    if t._resume_epoch_end:
        if not progress.epoch_schedulers_stepped:
            step_schedulers(t, "epoch", progress.current_epoch + 1)
        _finish_epoch_counters(t)
        t._resume_epoch_end = False
    if t._resume_rng is not None and not t._resume_skip_batches:
        restore_rng_state(t._resume_rng["current"])
    first = True
    while True:
        if t.max_epochs != -1 and progress.current_epoch >= t.max_epochs:
            break
        if _max_steps_reached(t):
            break
        if t.should_stop:
            if _minimum_reached(t):
                break
            log.info("Trainer was signaled to stop but the required min_epochs=%d or min_steps=%d has not been "
                     "met. Training will continue...", t.min_epochs, t.min_steps)
            t.should_stop = False
        n = t.reload_dataloaders_every_n_epochs
        if n and not first and progress.current_epoch % n == 0:
            _load_train_loader(t)
            t._val_loaders_loaded = False
        first = False
        _run_training_epoch(t)


def _max_steps_reached(t: Any) -> bool:
    return t.max_steps != -1 and t.global_step >= t.max_steps


def _minimum_reached(t: Any) -> bool:
    return t.current_epoch >= t.min_epochs and t.global_step >= t.min_steps


def _finish_epoch_counters(t: Any) -> None:
    progress = t.progress
    progress.current_epoch += 1
    progress.batches_done_in_epoch = 0
    progress.epoch_finished = False
    progress.epoch_schedulers_stepped = False


def _run_training_epoch(t: Any) -> None:
    hooks, progress, module = t._hooks, t.progress, t.lightning_module
    results = ResultCollection("train")
    results.callback_metrics, results.progress_bar_tensors = t.callback_metrics, t._progress_bar_tensors
    results.batch_size_fn = lambda: batch_size_of(t)
    t._results = results
    t._in_train_loop = True
    hooks.call("on_epoch_start")
    hooks.call("on_train_epoch_start")
    tbptt = module.truncated_bptt_steps or t.truncated_bptt_steps or 0
    if tbptt:
        check_tbptt_signature(module)
    collect = t._hooks.module_overrides("training_epoch_end")
    epoch_outputs: list[Any] = []
    skip = t._resume_skip_batches
    resume_rng = t._resume_rng
    if skip and resume_rng is not None and resume_rng.get("epoch_start") is not None:
        restore_rng_state(resume_rng["epoch_start"])
    t._epoch_start_rng = capture_rng_state()
    n = t.num_training_batches
    t.strategy.before_train_epoch(t, progress.current_epoch)  # DistributedSampler.set_epoch; batch-size report
    with _profile(t, "run_training_epoch"):
        iterator = iter(t.train_dataloader)
        stream = _lookahead(iterator) if n == math.inf else None
        batch_idx = 0
        while batch_idx < n:
            with _profile(t, "get_train_batch"):
                try:
                    if stream is None:
                        batch, is_last = next(iterator), batch_idx + 1 == n
                    else:
                        batch, is_last = next(stream)
                except StopIteration:
                    break
            if batch_idx < skip:  # resuming mid-epoch: replay the data order, skip the work
                batch_idx += 1
                if batch_idx == skip and resume_rng is not None:
                    restore_rng_state(resume_rng["current"])
                continue
            t.batch_idx = batch_idx
            outputs = _run_train_batch(t, results, batch, batch_idx, is_last, tbptt)
            if outputs is _SKIP_EPOCH:
                break
            if collect and outputs is not None:
                epoch_outputs.append(outputs)
            if _should_validate(t, batch_idx, is_last):
                run_validation(t)
            if _max_steps_reached(t) or (t.should_stop and _minimum_reached(t)):
                break
            batch_idx += 1
    t._resume_skip_batches, t._resume_rng = 0, None
    progress.epoch_finished = True
    if collect:
        hooks.module("training_epoch_end", _format_epoch_outputs(t, epoch_outputs, tbptt))
    publish_epoch_metrics(t, results)
    hooks.call("on_train_epoch_end")
    hooks.call("on_epoch_end")
    epoch_values = publish_epoch_metrics(t, results)
    if epoch_values:
        log_to_loggers(t, epoch_values)
    for logger in t.loggers:
        logger.save()
    step_schedulers(t, "epoch", progress.current_epoch + 1)
    progress.epoch_schedulers_stepped = True
    t._in_train_loop = False
    _finish_epoch_counters(t)


def _lookahead(iterator: Any) -> Any:
    """For loaders without a length: fetch one batch ahead to know whether the current one is the last."""
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for item in iterator:
        yield previous, False
        previous = item
    yield previous, True


def _should_validate(t: Any, batch_idx: int, is_last: bool) -> bool:
    if not t._val_enabled or t.val_check_batch is None:
        return False
    every = t.check_val_every_n_epoch
    if every is not None and (t.current_epoch + 1) % every != 0:
        return False
    if t.val_check_batch == math.inf:
        return is_last
    if every is None:
        return t.progress.total_batch_idx % t.val_check_batch == 0
    return (batch_idx + 1) % t.val_check_batch == 0


def _run_train_batch(t: Any, results: ResultCollection, batch: Any, batch_idx: int, is_last: bool,
                     tbptt: int) -> Any:
    hooks, progress, module = t._hooks, t.progress, t.lightning_module
    if t._needs_transfer:
        with _profile(t, "training_batch_to_device"):
            batch = transfer_batch(t, batch, 0)
    t._current_batch = batch
    t._current_batch_bs = None
    results.batch_serial += 1
    hooks.callbacks("on_batch_start")
    hooks.callbacks("on_train_batch_start", batch, batch_idx, 0)
    if hooks.module("on_train_batch_start", batch, batch_idx, 0) == -1:
        return _SKIP_EPOCH
    t._stepped_this_batch = False
    with _profile(t, "run_training_batch"):
        if module.automatic_optimization:
            outputs = _automatic_batch(t, batch, batch_idx, is_last, tbptt)
        else:
            outputs = _manual_batch(t, batch, batch_idx, tbptt)
    progress.batches_done_in_epoch = batch_idx + 1
    progress.total_batch_idx += 1
    if t._stepped_this_batch:
        progress.batches_that_stepped += 1
        if t.lr_schedulers:
            step_schedulers(t, "step", progress.batches_that_stepped)
    if t.terminate_on_nan:
        _check_finite(t, outputs)
    hooks.call("on_train_batch_end", outputs, batch, batch_idx, 0)
    hooks.callbacks("on_batch_end")
    if (t._stepped_this_batch and progress.batches_that_stepped % t.log_every_n_steps == 0) or t.should_stop:
        payload = step_metrics_payload(t, results)
        if payload is not None:
            log_to_loggers(t, payload)
    return outputs


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


def _automatic_batch(t: Any, batch: Any, batch_idx: int, is_last: bool, tbptt: int) -> Any:
    k = t.accumulate_grad_batches
    should_step = (batch_idx + 1) % k == 0 or is_last
    window_start = batch_idx % k == 0
    if tbptt:
        with _profile(t, "tbptt_split_batch"):
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
    hooks, module, precision = t._hooks, t.lightning_module, t._precision
    clip_overridden = (type(module).configure_gradient_clipping is not _DEFAULT_CLIPPING
                       or type(module).clip_gradients is not _DEFAULT_CLIP)
    # Full precision and no profiler: call training_step directly, without two no-op context managers.
    plain_forward = not t._profiling and type(precision).forward_context is Precision.forward_context
    opt = t.optimizers[opt_idx] if opt_idx is not None else None
    if multi:
        module.toggle_optimizer(opt, opt_idx)
    state: dict[str, Any] = {}

    def closure() -> torch.Tensor | None:
        with _profile(t, "training_step_and_backward"):
            args: list[Any] = [split, batch_idx]
            if multi:
                args.append(opt_idx)
            if tbptt:
                args.append(hiddens)
            if plain_forward:
                output = t.strategy.training_step(t, *args)
            else:
                with precision.forward_context(), _profile(t, "training_step"):
                    output = t.strategy.training_step(t, *args)
            if hooks.module_overrides("training_step_end"):
                output = hooks.module("training_step_end", output)
            loss = _loss_of(output, "training_step")
            state["output"] = output
            state["loss"] = loss
            if loss is None or opt is None:
                return loss
            if window_start:
                hooks.call("on_before_zero_grad", opt)
                with _profile(t, "zero_grad"):
                    hooks.module("optimizer_zero_grad", t.current_epoch, batch_idx, opt, opt_idx)
            scaled = loss / k if k > 1 else loss
            hooks.call("on_before_backward", scaled)
            sync = t.strategy.block_backward_sync(t._model) if not should_step else _NULL
            anomaly = _AnomalyStep(t, batch_idx, loss) if t.detect_anomaly else _NULL
            with _profile(t, "backward"), sync, anomaly:
                precision.backward(scaled, lambda value: hooks.module("backward", value, opt, opt_idx))
            hooks.call("on_after_backward")
            return loss

    def before_step() -> None:
        if precision.scaler is not None:
            precision.unscale_gradients(opt)
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
    with _profile(t, f"optimizer_step_with_closure_{opt_idx}"):
        t._hooks.module("optimizer_step", t.current_epoch, batch_idx, t._lightning_optimizers[opt_idx], opt_idx,
                        closure, on_tpu=False, using_native_amp=t._precision.scaler is not None,
                        using_lbfgs=isinstance(t.optimizers[opt_idx], torch.optim.LBFGS))
    t.progress.global_step += 1
    t._stepped_this_batch = True


def _manual_batch(t: Any, batch: Any, batch_idx: int, tbptt: int) -> Any:
    hooks, precision = t._hooks, t._precision
    splits = hooks.module("tbptt_split_batch", batch, tbptt) if tbptt else [batch]
    outputs, hiddens = [], None
    for split_idx, split in enumerate(splits):
        args: list[Any] = [split, batch_idx] + ([hiddens] if tbptt else [])
        if tbptt:
            t.split_idx = split_idx
        with precision.forward_context(), _profile(t, "training_step"):
            output = t.strategy.training_step(t, *args)
        if hooks.module_overrides("training_step_end"):
            output = hooks.module("training_step_end", output)
        if tbptt and isinstance(output, dict):
            hiddens = _detach(output.pop("hiddens", None))
        outputs.append(_format_output(output) if isinstance(output, (torch.Tensor, dict)) else output)
    return outputs if tbptt else outputs[0]


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


def grad_norm_type(trainer: Any) -> float | None:
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


def _check_finite(t: Any, outputs: Any) -> None:
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
    where = f"at epoch {t.current_epoch}, batch {t.batch_idx} (global_step={t.global_step})"
    if isinstance(loss, torch.Tensor) and not bool(torch.isfinite(loss).all()):
        raise ValueError(
            f"terminate_on_nan: the loss returned by training_step is {loss.detach().float().tolist()} {where}. "
            "Lower the learning rate, clip gradients (gradient_clip_val) or check the data for NaN/inf")
    for name, param in named:
        if not bool(torch.isfinite(param).all()):
            raise ValueError(
                f"terminate_on_nan: parameter `{name}` holds nan and/or inf values {where} (after the optimizer "
                "step). Lower the learning rate or clip gradients (gradient_clip_val)")


class _AnomalyStep:
    """Under ``detect_anomaly``, name the step when backward finds a NaN (torch names only the function)."""

    __slots__ = ("t", "batch_idx", "loss")

    def __init__(self, t: Any, batch_idx: int, loss: torch.Tensor) -> None:
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


def _format_epoch_outputs(t: Any, outputs: list[Any], tbptt: int) -> Any:
    if len(t.optimizers) > 1 and not tbptt:
        return [[batch[i] for batch in outputs] for i in range(len(t.optimizers))]
    return outputs

