"""``RichProgressBar`` (1.5): the progress bar drawn with the rich library.

Each loop gets a task line (``Epoch N``, ``Validation``, ``Testing``, ``Predicting``, ``Validation sanity
check``); the metrics line shows the ``prog_bar`` metrics. Batches only advance a counter; the metrics, which
need values from the device, are read at most ``refresh_rate_per_second`` times a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from trainer_core.callbacks.progress_base import SwitchedProgressBar

__all__ = ["RichProgressBar", "RichProgressBarTheme"]


@dataclass
class RichProgressBarTheme:
    """Styles (rich style strings) of the bar's parts."""

    description: str = "white"
    progress_bar: str = "#6206E0"
    progress_bar_finished: str = "#6206E0"
    batch_progress: str = "white"
    time: str = "grey54"
    metrics: str = "white"


def _rich() -> Any:
    try:
        import rich.progress
    except ImportError as err:  # rich is a main dependency; this guards a broken install
        raise ImportError("RichProgressBar needs the `rich` package: pip install rich") from err
    return rich.progress


class RichProgressBar(SwitchedProgressBar):
    """A progress bar drawn with rich.

    Args:
        refresh_rate_per_second: redraws (and metric reads) per second; 0 disables the bar.
        leave: keep the finished epoch lines on screen.
        theme: the styles.
    """

    def __init__(self, refresh_rate_per_second: int = 10, leave: bool = False,
                 theme: RichProgressBarTheme | None = None) -> None:
        if isinstance(refresh_rate_per_second, bool) or not isinstance(refresh_rate_per_second, int) \
                or refresh_rate_per_second < 0:
            raise ValueError(f"RichProgressBar(refresh_rate_per_second={refresh_rate_per_second!r}): give an int "
                             ">= 0 (0 disables the bar)")
        _rich()
        self._rate = refresh_rate_per_second
        self._leave = leave
        self.theme = theme or RichProgressBarTheme()
        self.progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._metrics_text = ""
        self._last_metrics = 0.0

    @property
    def refresh_rate_per_second(self) -> int:
        return self._rate

    def print(self, *args: Any, sep: str = " ", end: str = "\n") -> None:
        if self.progress is not None:
            self.progress.console.print(*args, sep=sep, end=end)
        else:
            print(*args, sep=sep, end=end)

    # --- drawing --------------------------------------------------------------------------------------------
    def _start(self) -> None:
        if self.progress is not None or not self.is_enabled:
            return
        rp = _rich()
        theme = self.theme
        self.progress = rp.Progress(
            rp.TextColumn("[progress.description]{task.description}", style=theme.description),
            rp.BarColumn(complete_style=theme.progress_bar, finished_style=theme.progress_bar_finished),
            rp.MofNCompleteColumn(), rp.TimeElapsedColumn(), rp.TextColumn("{task.fields[metrics]}",
                                                                            style=theme.metrics),
            refresh_per_second=self._rate, transient=False)
        self.progress.start()

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
            self._tasks = {}

    def _add(self, key: str, description: str, total: int | float) -> None:
        self._start()
        if self.progress is None:
            return
        old = self._tasks.pop(key, None)
        if old is not None and not self._leave:
            self.progress.remove_task(old)
        finite = total if isinstance(total, int) or total != float("inf") else None
        self._tasks[key] = self.progress.add_task(description, total=finite, metrics="")

    def _advance(self, key: str, trainer: Any = None, pl_module: Any = None) -> None:
        task = self._tasks.get(key)
        if task is None or self.progress is None:
            return
        fields: dict[str, Any] = {}
        now = time.monotonic()
        if trainer is not None and now - self._last_metrics >= 1.0 / max(self._rate, 1):
            self._last_metrics = now
            fields["metrics"] = self._format(self.get_metrics(trainer, pl_module))
        self.progress.update(task, advance=1, **fields)

    def _finish(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None and self.progress is not None and not self._leave:
            self.progress.remove_task(task)

    @staticmethod
    def _format(metrics: dict[str, Any]) -> str:
        parts = []
        for name, value in metrics.items():
            parts.append(f"{name}: {value:.3g}" if isinstance(value, float) else f"{name}: {value}")
        return " ".join(parts)

    # --- hooks ----------------------------------------------------------------------------------------------
    def on_sanity_check_start(self, trainer: Any, pl_module: Any) -> None:
        self._add("val", "Validation sanity check", self.total_val_batches)

    def on_sanity_check_end(self, trainer: Any, pl_module: Any) -> None:
        self._finish("val")

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._add("train", f"Epoch {trainer.current_epoch}", self.total_train_batches)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        self._advance("train", trainer, pl_module)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        task = self._tasks.get("train")
        if task is not None and self.progress is not None:
            self.progress.update(task, metrics=self._format(self.get_metrics(trainer, pl_module)))

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._stop()

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        super().on_validation_start(trainer, pl_module)
        if not trainer.sanity_checking:
            self._add("val", "Validation", self.total_val_batches)

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None:
        super().on_validation_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        self._advance("val")

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        self._finish("val")
        if trainer.state.stage == "validate":
            self._stop()

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        super().on_test_start(trainer, pl_module)
        self._add("test", "Testing", self.total_test_batches)

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None:
        super().on_test_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        self._advance("test")

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        self._stop()

    def on_predict_start(self, trainer: Any, pl_module: Any) -> None:
        super().on_predict_start(trainer, pl_module)
        self._add("predict", "Predicting", self.total_predict_batches)

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        super().on_predict_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        self._advance("predict")

    def on_predict_end(self, trainer: Any, pl_module: Any) -> None:
        self._stop()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self._stop()

    def __getstate__(self) -> dict[str, Any]:
        # A live rich display holds threads and a console: ddp_spawn workers start their own.
        return {**self.__dict__, "progress": None, "_tasks": {}}
