"""A torch-free stand-in training run that streams realistic events (benchmarks and fast GUI tests).

It emits the same event types as EventRecorder, from a loop that plays the trainer: ``run_started``, per-epoch
``epoch_started``/``epoch_finished``, ``progress`` at the recorder's throttle, and ``metrics`` every step, then
``run_finished``. It honours the stop event like a real run. Options (``request["synthetic"]``): ``epochs``,
``steps_per_epoch``, ``metrics_per_step``, ``step_delay_s``, ``print_every`` (user-style prints), ``fail_at_step``
(raise), ``crash_at_step`` (``os._exit(3)``), ``segfault_at_step``, ``hang`` (ignore the stop request).
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

from studio.protocol import events as ev
from studio.worker.streams import capture_output

__all__ = ["run_synthetic"]


def run_synthetic(request: dict[str, Any], channel: Any, stop_event: Any) -> dict[str, Any]:
    """Play a training run; returns counters (events emitted, seconds spent inside ``put``)."""
    options = request["synthetic"]
    run_id = str(request.get("run_id") or "synthetic")
    seq = 0
    put_seconds = 0.0
    worst_put = 0.0
    slow_puts = [0]

    def emit(kind: str, **fields: Any) -> None:
        nonlocal seq, put_seconds, worst_put
        event = {"type": kind, "run_id": run_id, "seq": seq, "time": time.time(), **fields}
        seq += 1
        start = time.perf_counter()
        channel.put(event)
        spent = time.perf_counter() - start
        put_seconds += spent
        worst_put = max(worst_put, spent)
        if spent > 0.001:
            slow_puts[0] += 1

    epochs = int(options.get("epochs", 2))
    steps = int(options.get("steps_per_epoch", 100))
    per_step = int(options.get("metrics_per_step", 1))
    delay = float(options.get("step_delay_s", 0.0))
    print_every = int(options.get("print_every", 0))
    names = ["train_loss"] + [f"metric_{i}" for i in range(1, per_step)]
    emit(ev.RUN_STARTED, mode="fit", log_dir=options.get("log_dir"), pid=os.getpid(), config={"synthetic": options})
    emit(ev.STAGE_STARTED, stage="fit", max_epochs=epochs, max_steps=-1, num_batches=None)
    step = 0
    last_progress = 0.0
    status = "finished"
    with capture_output(lambda level, stream, text: emit(ev.LOG, level=level, stream=stream, text=text)):
        for epoch in range(epochs):
            emit(ev.EPOCH_STARTED, stage="train", epoch=epoch, step=step, num_batches=steps)
            for batch in range(steps):
                if stop_event.is_set() and not options.get("hang"):
                    status = "interrupted"
                    break
                if options.get("fail_at_step") == step:
                    raise RuntimeError(f"synthetic failure at step {step}")
                if options.get("segfault_at_step") == step:
                    import ctypes

                    channel.close()
                    ctypes.string_at(0)  # a native crash, like a broken extension
                if options.get("crash_at_step") == step:
                    sys.stdout.flush()
                    channel.close()
                    os._exit(3)
                value = 2.0 * math.exp(-step / 200.0) + 0.05 * math.sin(step)
                emit(ev.METRICS, step=step, epoch=epoch, metrics={n: value + i for i, n in enumerate(names)})
                now = time.monotonic()
                if now - last_progress >= 0.05 or batch == steps - 1:
                    last_progress = now
                    emit(ev.PROGRESS, stage="train", epoch=epoch, step=step + 1, batch=batch + 1, num_batches=steps,
                         metrics={"loss": value})
                if print_every and step % print_every == 0:
                    print(f"user print at step {step}")
                step += 1
                if delay:
                    time.sleep(delay)
            if status != "finished":
                break
            emit(ev.EPOCH_FINISHED, stage="validate", epoch=epoch, step=step,
                 metrics={"val_loss": 1.0 / (epoch + 1)})
    emit(ev.STAGE_FINISHED, stage="fit", status=status, metrics={})
    emit(ev.RUN_FINISHED, status=status, reason="stopped by the user" if status == "interrupted" else "",
         metrics={}, result={"mode": "fit"}, put_seconds=put_seconds, worst_put_s=worst_put, slow_puts=slow_puts[0],
         events=seq)
    return {"events": seq, "put_seconds": put_seconds, "worst_put_s": worst_put}
