"""The metrics plot fed directly from a run model (no child process)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from studio.qt.metrics_view import MetricsView, visible_range
from studio.services.session import RunSession


@pytest.fixture
def view(qtbot):
    session = RunSession()
    view = MetricsView(session)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    yield view
    session.shutdown()


def feed(view, steps, spike_at=None):
    events = []
    for step in range(steps):
        value = 1.0 / (step + 1) + (100.0 if step == spike_at else 0.0)
        events.append({"type": "metrics", "step": step, "epoch": 0, "metrics": {"train_loss": value}})
    events.append({"type": "epoch_finished", "stage": "validate", "epoch": 0, "step": steps,
                   "metrics": {"val_loss": 0.5}})
    view.session.model.apply(events)


def test_series_are_listed_and_drawn_smoothed(view):
    feed(view, 500)
    view.refresh(force=True)
    assert view.series_list.count() == 2
    x, y = view.curve_data("train_loss")
    assert len(x) == 500
    raw = view.session.model.metrics.series("train_loss").view()[1]
    assert y[-1] > raw[-1]  # the EMA lags above a decreasing curve
    view.smoothing.setValue(0)
    _, y0 = view.curve_data("train_loss")
    np.testing.assert_allclose(y0, raw)


def test_unticking_hides_a_series(view):
    feed(view, 10)
    view.refresh(force=True)
    view.set_series_visible("val_loss", False)
    assert not view._curves["val_loss"].smooth.isVisible()


def test_ignore_outliers_scales_to_the_bulk_of_the_points(view):
    feed(view, 1000, spike_at=500)
    view.smoothing.setValue(0)
    view.refresh(force=True)
    view.outliers.setChecked(True)
    low, high = view.plot.getViewBox().viewRange()[1]
    assert high < 50  # the 101 spike is outside the range
    assert visible_range([np.array([1.0, 1.0])]) == pytest.approx((0.95, 1.05))


def test_log_y_and_crosshair_readout(view):
    feed(view, 100)
    view.refresh(force=True)
    view.log_y.setChecked(True)
    assert view.plot.getAxis("left").logMode
    view.log_y.setChecked(False)
    view.plot.getViewBox().setRange(xRange=(0, 100), yRange=(0, 1), padding=0)
    scene_point = view.plot.getViewBox().mapViewToScene(QPointF(10, 0.5))
    view._on_mouse((scene_point,))
    assert "train_loss = " in view.readout.text() and "@ 10" in view.readout.text()


def test_million_points_redraw_quickly(view):
    import time

    store = view.session.model.metrics
    store.add("big", 0, 0.0)
    series = store.series("big")
    x = np.arange(1, 1_000_000, dtype=np.float64)
    series.extend(x, np.sin(x / 1000.0))
    store.version += 1
    view.refresh(force=True)
    start = time.perf_counter()
    for step in range(1_000_000, 1_000_050):
        store.add("big", step, 0.0)
        view.refresh()
        view.plot_widget.repaint()
    per_frame = (time.perf_counter() - start) / 50
    assert per_frame < 0.25, per_frame


def test_export_button_opens_the_export_dialog(view):
    feed(view, 10)
    view.refresh(force=True)
    view._on_export()
    dialog = view.plot.scene().exportDialog
    assert dialog is not None and dialog.isVisible()
    dialog.close()
