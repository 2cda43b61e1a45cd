"""The hook sequence of a small fit, compared with Lightning 1.5's order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core.callback import CALLBACK_HOOKS, Callback

_TELEMETRY = {"on_log_metrics", "on_lr_find_point", "on_batch_size_trial", "on_profiler_report"}


def _recording_callback(calls: list[str]) -> Callback:
    def make(name: str) -> Any:
        def hook(self: Any, *args: Any, **kwargs: Any) -> None:
            calls.append(f"Cb.{name}")
        return hook

    namespace = {name: make(name) for name in CALLBACK_HOOKS if name not in _TELEMETRY}
    return type("Recorder", (Callback,), namespace)()


_MODULE_HOOKS = [
    "prepare_data", "configure_callbacks", "setup", "configure_sharded_model", "configure_optimizers",
    "on_fit_start", "on_fit_end", "on_pretrain_routine_start", "on_pretrain_routine_end", "on_train_start",
    "on_train_end", "on_validation_start", "on_validation_end", "on_epoch_start", "on_epoch_end",
    "on_train_epoch_start", "on_train_epoch_end", "on_validation_epoch_start", "on_validation_epoch_end",
    "on_train_batch_start", "on_train_batch_end", "on_validation_batch_start", "on_validation_batch_end",
    "on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer", "training_step",
    "training_step_end", "training_epoch_end", "validation_step", "validation_step_end", "validation_epoch_end",
    "on_before_zero_grad", "optimizer_zero_grad", "on_before_backward", "backward", "on_after_backward",
    "on_before_optimizer_step", "configure_gradient_clipping", "clip_gradients", "optimizer_step",
    "on_validation_model_eval", "on_validation_model_train", "on_train_dataloader", "train_dataloader",
    "on_val_dataloader", "val_dataloader", "teardown",
]


def _recording_model(calls: list[str]) -> BoringModel:
    def make(name: str) -> Any:
        parent = getattr(BoringModel, name, None)

        def hook(self: Any, *args: Any, **kwargs: Any) -> Any:
            if name == "optimizer_step":
                # optimizer_step encloses the training closure (training_step ... clipping run inside
                # optimizer.step(closure)): it is recorded when it returns, after what it ran.
                result = parent(self, *args, **kwargs)
                calls.append(f"M.{name}")
                return result
            calls.append(f"M.{name}")
            if name in ("training_step_end", "validation_step_end"):
                return args[0]
            if name == "training_epoch_end" or name == "validation_epoch_end":
                return None
            return parent(self, *args, **kwargs) if parent is not None else None
        return hook

    cls = type("RecordingModel", (BoringModel,), {name: make(name) for name in _MODULE_HOOKS})
    return cls(batch_size=32)  # 64 samples -> 2 batches


def both(name: str) -> list[str]:
    return [f"Cb.{name}", f"M.{name}"]


def _transfer() -> list[str]:
    return ["M.on_before_batch_transfer", "M.transfer_batch_to_device", "M.on_after_batch_transfer"]


def _val_epoch() -> list[str]:
    seq = ["M.on_validation_model_eval", *both("on_validation_start"), *both("on_epoch_start"),
           *both("on_validation_epoch_start")]
    for _ in range(2):
        seq += [*_transfer(), *both("on_validation_batch_start"), "M.validation_step", "M.validation_step_end",
                *both("on_validation_batch_end")]
    seq += ["M.validation_epoch_end", *both("on_validation_epoch_end"), *both("on_epoch_end"),
            *both("on_validation_end"), "M.on_validation_model_train"]
    return seq


def _train_batch() -> list[str]:
    return [*_transfer(), "Cb.on_batch_start", *both("on_train_batch_start"), "M.training_step",
            "M.training_step_end", *both("on_before_zero_grad"), "M.optimizer_zero_grad",
            *both("on_before_backward"), "M.backward", *both("on_after_backward"),
            *both("on_before_optimizer_step"), "M.configure_gradient_clipping", "M.clip_gradients",
            "M.optimizer_step", *both("on_train_batch_end"), "Cb.on_batch_end"]


EXPECTED_FIT = [
    "Cb.on_init_start", "Cb.on_init_end",
    "M.configure_callbacks", "M.prepare_data", "Cb.on_before_accelerator_backend_setup",
    "Cb.setup", "M.setup", "M.configure_sharded_model", "Cb.on_configure_sharded_model",
    "M.configure_optimizers", *both("on_fit_start"), *both("on_pretrain_routine_start"),
    *both("on_pretrain_routine_end"),
    "Cb.on_sanity_check_start", "M.on_val_dataloader", "M.val_dataloader", *_val_epoch(),
    "Cb.on_sanity_check_end",
    "M.on_train_dataloader", "M.train_dataloader", *both("on_train_start"),
    *both("on_epoch_start"), *both("on_train_epoch_start"),
    *_train_batch(), *_train_batch(),
    *_val_epoch(),
    "M.training_epoch_end", *both("on_train_epoch_end"), *both("on_epoch_end"),
    *both("on_train_end"), *both("on_fit_end"), "Cb.teardown", "M.teardown",
]


def test_fit_hook_order_matches_reference() -> None:
    calls: list[str] = []
    model = _recording_model(calls)
    trainer = quiet_trainer(max_epochs=1, callbacks=[_recording_callback(calls)])
    trainer.fit(model)
    assert calls == EXPECTED_FIT


def test_validate_hook_order() -> None:
    calls: list[str] = []
    model = _recording_model(calls)
    trainer = quiet_trainer(max_epochs=1, callbacks=[_recording_callback(calls)])
    trainer.validate(model, verbose=False)
    expected = [
        "Cb.on_init_start", "Cb.on_init_end", "M.configure_callbacks", "M.prepare_data",
        "Cb.on_before_accelerator_backend_setup", "Cb.setup", "M.setup", "M.configure_sharded_model",
        "Cb.on_configure_sharded_model", "M.on_val_dataloader", "M.val_dataloader",
    ]
    expected += _val_epoch()  # ends with on_validation_model_train: validate() leaves the model in train mode (1.5)
    expected += ["Cb.teardown", "M.teardown"]
    assert calls == expected
    assert model.training


@pytest.mark.parametrize("hook", ["on_fit_start", "on_train_batch_end", "on_validation_end"])
def test_unused_hooks_are_never_called(hook: str) -> None:
    """A callback that overrides nothing sits on no hook (the dispatcher skips it)."""

    class Nothing(Callback):
        pass

    trainer = quiet_trainer(max_epochs=1, callbacks=[Nothing()])
    trainer.fit(BoringModel(batch_size=32))
    assert not trainer._hooks.has_callbacks(hook) or all(
        not isinstance(cb, Nothing) for cb in trainer._hooks._by_hook[hook])


def test_resume_restores_the_checkpoint_before_configure_optimizers(tmp_path: Any) -> None:
    first = BoringModel(batch_size=32)
    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0)
    trainer.fit(first)
    path = str(tmp_path / "one.ckpt")
    trainer.save_checkpoint(path)

    calls: list[str] = []
    model = _recording_model(calls)

    class Resumed(type(model)):  # type: ignore[misc]
        def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
            calls.append("M.on_load_checkpoint")

    resumed = Resumed(batch_size=32)
    quiet_trainer(max_epochs=2, limit_val_batches=0).fit(resumed, ckpt_path=path)
    start = calls.index("M.configure_sharded_model")
    assert calls[start:start + 3] == ["M.configure_sharded_model", "M.on_load_checkpoint", "M.configure_optimizers"]


def test_hooks_set_on_the_instance_take_their_place_in_the_order() -> None:
    calls: list[str] = []
    model = _recording_model(calls)
    model.training_step_end = None  # off
    model.on_train_batch_end = lambda outputs, batch, batch_idx: calls.append("instance.on_train_batch_end")
    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0, num_sanity_val_steps=0,
                            callbacks=[_recording_callback(calls)])
    trainer.fit(model)
    batch = [entry for entry in _train_batch() if entry != "M.training_step_end"]
    batch[batch.index("M.on_train_batch_end")] = "instance.on_train_batch_end"
    start = calls.index("Cb.on_batch_start") - len(_transfer())
    assert calls[start:start + len(batch)] == batch
    assert "M.training_step_end" not in calls


def test_validation_inside_fit_is_not_training() -> None:
    seen: list[tuple[bool, bool]] = []

    class Watch(Callback):
        def on_validation_batch_start(self, trainer: Any, *args: Any) -> None:
            seen.append((trainer.training, trainer.validating))

        def on_train_batch_start(self, trainer: Any, *args: Any) -> None:
            seen.append((trainer.training, trainer.validating))

    quiet_trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=0,
                  callbacks=[Watch()]).fit(BoringModel(batch_size=32))
    assert seen == [(True, False), (False, True)]


def test_gradients_are_cleared_before_evaluation() -> None:
    grads: list[Any] = []

    class Watch(Callback):
        def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
            grads.append(pl_module.layer.weight.grad)

    quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, num_sanity_val_steps=0,
                  callbacks=[Watch()]).fit(BoringModel(batch_size=32))
    assert grads == [None]
