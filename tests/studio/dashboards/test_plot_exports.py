"""A plot's CSV export heads its first column with what the x axis is and holds the values the view draws."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from dashboard_helpers import feed
from PySide6.QtWidgets import QPushButton


def _export_csv(view, monkeypatch, path) -> list[list[str]]:
    monkeypatch.setattr("studio.qt.dashboards.common.ask_save_path", lambda *args: str(path))
    button = next(b for b in view.findChildren(QPushButton) if b.text() == "Export…")
    button.click()
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_the_lr_finder_csv_is_headed_lr_and_holds_the_curve(qtbot, session, tune_events, monkeypatch, tmp_path):
    from studio.qt.dashboards.tuner_views import LrFinderView

    view = LrFinderView(session)
    qtbot.addWidget(view)
    view.show()
    feed(session, tune_events)
    view.refresh(force=True)
    rows = _export_csv(view, monkeypatch, tmp_path / "lr.csv")
    assert rows[0] == ["lr", "loss", "smoothed_loss"]  # was "step": the learning rates read as step numbers
    lrs = np.array([float(r[0]) for r in rows[1:]])
    assert lrs == pytest.approx(np.unique(view.curve.lr))
    assert float(rows[1][1]) == pytest.approx(float(view.curve.loss[np.argmin(view.curve.lr)]))


def test_the_distribution_csv_is_headed_by_the_bin_centre(qtbot, session, monkeypatch, tmp_path):
    from studio.qt.dashboards.distributions_view import DistributionsView

    view = DistributionsView(session)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    events = [{"type": "histogram", "run_id": "h", "seq": i, "time": 1.0, "tag": "w", "step": step, "min": 0.0,
               "max": 1.0, "counts": [1, 3]} for i, step in enumerate((0, 10))]
    feed(session, events)
    qtbot.waitUntil(lambda: bool(view._series()))
    rows = _export_csv(view, monkeypatch, tmp_path / "d.csv")
    assert rows[0][0] == "bin_center" and rows[0][1:] == ["step 0", "step 10"]


def test_the_batch_size_trials_table_exports(qtbot, session, tune_events, monkeypatch, tmp_path):
    from studio.qt.dashboards.tuner_views import BatchFinderView

    view = BatchFinderView(session)
    qtbot.addWidget(view)
    view.show()
    feed(session, tune_events)
    view.refresh(force=True)
    rows = _export_csv(view, monkeypatch, tmp_path / "trials.csv")
    assert rows[0] == ["Trial", "Batch size", "Result", "Peak memory", "Time (s)"]
    assert [int(r[1]) for r in rows[1:]] == [row[0] for row in view.trials.rows]


def test_the_system_plot_exports_the_drawn_lines(qtbot, session, monkeypatch, tmp_path):
    from studio.models.dashboards.system import SYSTEM_SAMPLE
    from studio.qt.dashboards.system_view import SystemView

    view = SystemView(session)
    qtbot.addWidget(view)
    view.show()
    samples = [{"type": SYSTEM_SAMPLE, "run_id": "s", "seq": i, "time": 100.0 + i, "cpu_percent": 50.0 + i,
                "ram_percent": 20.0} for i in range(3)]
    feed(session, samples)
    view.sample()
    rows = _export_csv(view, monkeypatch, tmp_path / "system.csv")
    assert rows[0][0] == "seconds" and "training CPU % (per core)" in rows[0]
    cpu = rows[0].index("training CPU % (per core)")
    assert [float(r[cpu]) for r in rows[1:]] == [50.0, 51.0, 52.0]


def test_the_batch_size_table_shows_every_trial_at_1280x720(qtbot, window):
    from dashboard_helpers import TUNE_RUN
    from PySide6.QtWidgets import QApplication

    view = window.dashboard_views["Batch size"]
    window.resize(1280, 720)
    window.views.setCurrentWidget(view)
    window.session.open_run(TUNE_RUN)
    view.refresh(force=True)
    QApplication.processEvents()
    assert view.model.rowCount() == 5
    assert view.table.verticalScrollBar().maximum() == 0  # the chosen (last) trial was behind a scroll bar


def test_the_checkpoints_export_gives_each_files_full_path(qtbot, session, monkeypatch, tmp_path):
    from dashboard_helpers import FIT_RUN

    from studio.qt.dashboards.tables_views import CheckpointsView

    view = CheckpointsView(session)
    qtbot.addWidget(view)
    view.show()
    session.open_run(FIT_RUN)
    view.rebuild()
    rows = _export_csv(view, monkeypatch, tmp_path / "checkpoints.csv")
    assert rows[0][0] == "File" and rows[0][-1] == "Path"
    assert [r[-1] for r in rows[1:]] == [row.path for row in view.rows]  # the table's order is the rows' order
    assert all(r[-1].endswith(r[0]) for r in rows[1:])
