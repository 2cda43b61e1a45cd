"""The run status strip: status, stage, epoch, step, progress bar, batches/s, ETA, elapsed, run folder, the
newest progress-bar metrics and, for an evaluation run, the weights it evaluated."""

from __future__ import annotations

import html
import os
import time

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QSizePolicy, QWidget

from studio.models.run_state import RunStatus
from studio.qt.debug_summary import debug_summary
from studio.services.session import RunSession

__all__ = ["StatusView", "ElidedLabel", "epoch_text", "format_duration", "predictions_path", "weights_line"]

_STATUS_COLOURS = {
    RunStatus.IDLE: "#7f7f7f",
    RunStatus.STARTING: "#3a7bd5",
    RunStatus.RUNNING: "#3a7bd5",
    RunStatus.STOPPING: "#c7870a",
    RunStatus.FINISHED: "#2e9e5b",
    RunStatus.INTERRUPTED: "#c7870a",
    RunStatus.FAILED: "#d64545",
}


def format_duration(seconds: float | None) -> str:
    """``1:02:03`` / ``02:03`` / ``-``."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def epoch_text(epoch: int, max_epochs: int | None) -> str:
    """``epoch 6 of 6`` for the zero-based epoch 5 of a 6-epoch fit; ``epoch 5`` when the total is unknown.

    With a total the count starts at 1: "epoch 5/6" on a finished 6-epoch run read as "it stopped one early".
    """
    if max_epochs is not None and max_epochs > 0:
        return f"epoch {min(epoch + 1, max_epochs)} of {max_epochs}"
    return f"epoch {epoch}"


def weights_line(mode: str | None, started: list[dict]) -> str:
    """Which weights an evaluation run (validate, test, predict) used, from its ``run_started`` config; else ""."""
    if mode not in ("validate", "test", "predict") or not started:
        return ""
    checkpoint = (started[-1].get("config") or {}).get("ckpt_path")
    if checkpoint:
        return f"weights: {checkpoint}"
    return ("weights: as the model's constructor makes them (no checkpoint chosen: untrained unless the script "
            "loads its own)")


def predictions_path(result: dict) -> str:
    """The file a finished Predict run saved its predictions to (``predictions.pt``), else ""."""
    path = result.get("predictions_path") if isinstance(result, dict) else None
    return str(path) if path else ""


class ElidedLabel(QLabel):
    """A one-line label that never asks for more width than it gets: its text is elided to fit, in full in the
    tooltip. (An unwrapped QLabel's minimum width is its whole text: a long metric line or run folder path would
    make the window wider than the screen.)

    Args:
        mode: where the ellipsis goes (``Qt.ElideRight`` for a list of values, ``Qt.ElideMiddle`` for a path).
        link: show the text as a link to itself (a folder to open).
    """

    def __init__(self, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight, *, link: bool = False,
                 prefix: str = "") -> None:
        super().__init__()
        self._mode = mode
        self._link = link
        self._prefix = prefix
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def full_text(self) -> str:
        """The text before eliding."""
        return self._full

    def set_link(self, link: bool) -> None:
        """Show the text as a link (a folder on this computer) or as plain text (a ``host:folder`` elsewhere)."""
        if link != self._link:
            self._link = link
            self._elide()

    def set_full_text(self, text: str) -> None:
        """Show ``text``, elided to the current width."""
        if text != self._full:
            self._full = text
            self.setToolTip(text if self._link or len(text) > 40 else "")
            self._elide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        room = max(self.width() - metrics.horizontalAdvance(self._prefix) - 4, 20)
        shown = metrics.elidedText(self._full, self._mode, room)
        if self._link and self._full and self._full != "-":
            # A mid blue reads on both the light and the dark theme.
            self.setText(f'{html.escape(self._prefix)}<a style="color:#4a90e2" href="{html.escape(self._full)}">'
                         f"{html.escape(shown)}</a>")
        else:
            self.setText(self._prefix + shown)


class StatusView(QWidget):
    """Shows the run's progress; refreshed on the session clock."""

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("statusView")
        self.status = QLabel()
        self.status.setObjectName("runStatus")
        self.status.setMinimumWidth(110)
        self.where = QLabel()
        # Room for long values up front, so the strip does not re-layout (and jitter) as the numbers grow.
        self.where.setMinimumWidth(self.where.fontMetrics().horizontalAdvance(
            "stage validate · epoch 000 of 000 · step 000,000"))
        self.where.setToolTip("With a known number of epochs the strip counts them from 1 (epoch 6 of 6 is the "
                              "last); the metric charts and checkpoint names count from 0 (epoch=5).")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.speed = QLabel()
        self.speed.setMinimumWidth(self.speed.fontMetrics().horizontalAdvance(
            "000.0 batches/s · ETA 00:00 · elapsed 00:00"))
        self.metrics = ElidedLabel()
        self.metrics.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder = ElidedLabel(Qt.TextElideMode.ElideMiddle, link=True, prefix="run folder: ")
        self.folder.setOpenExternalLinks(False)
        self.folder.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl.fromLocalFile(url)))
        self.weights = ElidedLabel(Qt.TextElideMode.ElideMiddle)
        self.weights.setObjectName("runWeights")
        self.weights.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Predict logs no metrics: without this line its one result, the saved predictions, was nowhere on screen.
        self.predictions = ElidedLabel(Qt.TextElideMode.ElideMiddle, link=True,
                                       prefix="predictions (load with torch.load): ")
        self.predictions.setObjectName("runPredictions")
        self.predictions.setOpenExternalLinks(False)
        self.predictions.linkActivated.connect(
            lambda url: QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(url))))
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        # Wrapped, and never wider than the strip: a path in an error message is one long word.
        self.reason.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.reason.setObjectName("runReason")
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.addWidget(self.status, 0, 0)
        grid.addWidget(self.where, 0, 1)
        grid.addWidget(self.bar, 0, 2)
        grid.addWidget(self.speed, 0, 3)
        grid.addWidget(self.metrics, 1, 0, 1, 4)
        grid.addWidget(self.folder, 2, 0, 1, 4)
        grid.addWidget(self.weights, 3, 0, 1, 4)
        grid.addWidget(self.predictions, 4, 0, 1, 4)
        grid.addWidget(self.reason, 5, 0, 1, 4)
        grid.setColumnStretch(2, 1)
        session.tick.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Update every label from the model."""
        model = self.session.model
        progress = model.progress
        colour = _STATUS_COLOURS.get(model.status, "#7f7f7f")
        self.status.setText(f'<b style="color:{colour}">{model.status.upper()}</b>'
                            + (f" {model.mode}" if model.mode else ""))
        stage = progress.stage or "-"
        # Tuning and evaluating train no epochs of their own: "epoch 1 of 40" on a finished Tune read as a fit that
        # stopped early, "epoch 1 of 2" on a Test as a run half done.
        no_epochs = model.mode in ("tune", "validate", "test", "predict")
        epoch = "" if no_epochs else f"{epoch_text(progress.epoch, progress.max_epochs)} · "
        self.where.setText(f"stage {stage} · {epoch}step {progress.step:,}")
        # A finished run's bar is full: its last stage's own batches (a 1/1 validation) say nothing about the run.
        fraction = None if model.status == RunStatus.FINISHED else progress.fraction()
        if fraction is None:
            self.bar.setValue(1000 if model.status == RunStatus.FINISHED else 0)
            self.bar.setFormat("%p%" if model.status == RunStatus.FINISHED else "")
        else:
            self.bar.setValue(int(fraction * 1000))
            self.bar.setFormat(f"{progress.batch}/{progress.num_batches}")
        rate = f"{progress.batches_per_s:.1f} batches/s" if progress.batches_per_s else "- batches/s"
        eta = progress.eta_s(time.time()) if not model.ended else None
        self.speed.setText(f"{rate} · ETA {format_duration(eta)} · elapsed {format_duration(model.elapsed_s())}")
        # The script's own metrics first; per-layer gradient norms (dozens of them) after.
        shown = sorted(model.latest.items(), key=lambda item: item[0].startswith("grad_"))
        # "yet" only while the run can still log: under a finished Tune or Predict it read as still waiting.
        none = "no metrics logged" if model.ended else "no metrics yet"
        self.metrics.set_full_text("   ".join(f"{k}: {v:.4g}" for k, v in shown) if shown else none)
        # A run followed on another machine: its host and folder there (its own events name only the folder).
        remote = self.session.remote_location
        self.folder.set_link(not remote)
        self.folder.set_full_text(remote or model.log_dir or "-")
        weights = weights_line(model.mode, model.extras.get("run_started") or [])
        self.weights.set_full_text(weights)
        self.weights.setVisible(bool(weights))
        predictions = predictions_path(model.result) if model.mode == "predict" else ""
        self.predictions.set_full_text(predictions)
        self.predictions.setVisible(bool(predictions))
        # Why it ended: the error or stop for a run that did not finish; for one that did, what is worth knowing
        # (stopped early by EarlyStopping or the time limit, the tuned values).
        text = model.reason.splitlines()[0][:400] if model.ended and model.reason else ""
        summary = debug_summary(model)  # what a finished Debug check ran and found
        text = f"{summary} {text[:1].upper()}{text[1:]}".strip() if summary else text  # two sentences
        self.reason.setText(text)
        self.reason.setVisible(bool(text))
