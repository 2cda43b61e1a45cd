"""The one place that opens and closes a stage: status, the interrupt/exception hooks, and clean-up on failure.

Used by the trainer's fit/validate/test/predict and by the tuner's "tune" stage::

    with stage_scope(trainer, "fit", trainer._hooks, cleanup=teardown):
        ...

``trainer.state`` goes "running" -> "finished"; a ``KeyboardInterrupt`` (Ctrl+C, the studio's Stop) makes it
"interrupted", fires ``on_keyboard_interrupt`` and ``on_exception``, runs ``cleanup`` and is *not* re-raised (a
graceful stop, as in Lightning 1.5); any other exception makes it "failed", fires ``on_exception``, runs ``cleanup``
and propagates. Code inside the scope may also set the status to "interrupted" itself (a stop without an exception);
the interrupt hooks then fire when the scope closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainer_core.hooks import HookDispatcher
    from trainer_core.trainer.trainer import Trainer

__all__ = ["stage_scope"]

log = logging.getLogger("trainer_core")


@contextmanager
def stage_scope(trainer: Trainer, stage: str, hooks: HookDispatcher,
                cleanup: Callable[[str], None]) -> Iterator[None]:
    """Run the body as ``stage``; see the module docstring for what each ending does.

    Args:
        trainer: the trainer whose ``state`` records the stage and its status.
        stage: "fit", "validate", "test", "predict" or "tune".
        hooks: the dispatcher that reaches the callbacks.
        cleanup: called with ``stage`` when the stage ends early (interrupted or failed), after the hooks.
    """
    trainer.state.stage, trainer.state.status = stage, "running"
    try:
        yield
    except KeyboardInterrupt as exc:
        log.warning("Detected KeyboardInterrupt, attempting graceful shutdown...")
        trainer.state.status = "interrupted"
        _interrupted(hooks, exc)
        cleanup(stage)
        return
    except BaseException as exc:
        trainer.state.status = "failed"
        hooks.callbacks("on_exception", exc)
        cleanup(stage)
        raise
    if trainer.state.status == "interrupted":
        _interrupted(hooks, KeyboardInterrupt("stopped by the user"))
    else:
        trainer.state.status = "finished"


def _interrupted(hooks: HookDispatcher, exc: BaseException) -> None:
    hooks.callbacks("on_keyboard_interrupt")
    hooks.callbacks("on_exception", exc)
