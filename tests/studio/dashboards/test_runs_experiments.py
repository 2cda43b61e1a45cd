"""Runs as experiments: name, tags and notes in run.yaml; hyper-parameter and metric columns; parallel
coordinates; resumed runs linked to their parent; the Resume / Test / TensorBoard signals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from studio.models.dashboards.history import scan_runs
from studio.models.dashboards.run_meta import RunMeta, default_name, load_meta, save_meta
from studio.qt.dashboards.parallel_coords import build_axes


def make_run(root: Path, version: int, *, lr: float, optimizer: str, val_losses: list[float],
             ckpt_path: str | None = None, time0: float = 1000.0) -> Path:
    folder = root / "lightning_logs" / f"version_{version}"
    folder.mkdir(parents=True)
    config = {"hparams": {"lr": lr, "optimizer": optimizer}, "model": {"script": "/x/mlp_classifier.py"},
              "ckpt_path": ckpt_path, "trainer": {}}
    events = [{"type": "run_started", "run_id": f"run{version}abcdef", "time": time0 + version, "mode": "fit",
               "config": config}]
    for epoch, loss in enumerate(val_losses):
        events.append({"type": "epoch_finished", "stage": "validate", "epoch": epoch, "step": 10 * (epoch + 1),
                       "time": time0 + version + epoch, "metrics": {"val_loss": loss, "val_acc": 1 - loss}})
    events.append({"type": "run_finished", "status": "finished", "time": time0 + version + 9})
    (folder / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.ckpt").write_bytes(b"weights")
    return folder


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    first = make_run(root, 0, lr=0.1, optimizer="sgd", val_losses=[0.9, 0.5, 0.7])
    make_run(root, 1, lr=0.01, optimizer="adam", val_losses=[0.8, 0.3])
    make_run(root, 2, lr=0.01, optimizer="adam", val_losses=[0.25],
             ckpt_path=str(first / "checkpoints" / "last.ckpt"))
    return root


def test_run_yaml_round_trip_is_atomic_and_a_damaged_file_gives_defaults(tmp_path):
    meta = RunMeta(name="sweep A", tags=["baseline", "cpu"], notes="first try\nsecond line")
    path = save_meta(tmp_path, meta)
    assert load_meta(tmp_path) == meta
    assert [p.name for p in tmp_path.iterdir()] == ["run.yaml"]  # no temporary file left behind
    path.write_text("name: [unclosed")
    assert load_meta(tmp_path) == RunMeta()
    assert default_name("/a/mlp_classifier.py", "3f9a2c77-1", str(tmp_path)) == "mlp_classifier 3f9a2c"


def test_scan_gives_hparams_metric_stats_default_names_and_parents(root):
    runs = {Path(r.path).name: r for r in scan_runs(root)}
    first, resumed = runs["version_0"], runs["version_2"]
    assert first.hparams == {"lr": 0.1, "optimizer": "sgd"}
    stats = first.stats["val_loss"]
    assert (stats.last, stats.best, stats.min, stats.max) == (0.7, 0.5, 0.5, 0.9)
    assert first.stats["val_acc"].best == pytest.approx(0.5)  # accuracy: higher is better
    assert first.title == "mlp_classifier run0ab"
    assert resumed.parent == first.path


@pytest.fixture
def view(qtbot, session, root):
    from studio.qt.dashboards.history_view import HistoryView

    view = HistoryView(session, root=str(root))
    qtbot.addWidget(view)
    view.resize(1280, 700)
    view.show()
    view.rescan()
    return view


def _cell(view, row, header):
    model = view.table.model()
    return model.index(row, view.table_model.headers().index(header)).data()


def test_table_columns_sort_and_filter(view):
    headers = view.table_model.headers()
    assert {"hp: lr", "hp: optimizer", "val_loss last", "val_loss best", "val_loss min", "val_loss max"} <= set(
        headers)
    column = headers.index("val_loss best")
    view.table.sortByColumn(column, view.table.horizontalHeader().sortIndicatorOrder().AscendingOrder)
    assert [_cell(view, r, "val_loss best") for r in range(3)] == ["0.25", "0.3", "0.5"]
    view.filter_edit.setText("sgd")
    assert view.table.model().rowCount() == 1 and _cell(view, 0, "hp: lr") == "0.1"
    view.filter_edit.setText("")
    view.set_metric_columns(["val_acc"])
    assert "val_acc max" in view.table_model.headers() and "val_loss best" not in view.table_model.headers()


def test_rename_tag_and_notes_are_kept_in_run_yaml(view, root):
    first = next(r for r in view.runs if r.path.endswith("version_0"))
    row = view.row_of(first.path)
    model = view.table.model()
    assert model.setData(model.index(row, 0), "lr 0.1 baseline")
    assert model.setData(model.index(row, 1), "baseline, sgd")
    view.select_run(first.path)
    view.notes_edit.setPlainText("diverged after epoch 2")
    assert view.save_details()
    meta = load_meta(first.path)
    assert meta == RunMeta(name="lr 0.1 baseline", tags=["baseline", "sgd"], notes="diverged after epoch 2")
    view.rescan()  # survives a rescan (the summary cache does not hide a renamed run)
    resumed = next(r for r in view.runs if r.path.endswith("version_2"))
    assert _cell(view, view.row_of(resumed.path), "Weights from") == "lr 0.1 baseline"
    from PySide6.QtCore import Qt

    column = view.table_model.headers().index("Weights from")
    tip = view.table_model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "evaluated its weights" in tip  # a Validate row's source is not a resume
    assert _cell(view, view.row_of(first.path), "Run") == "lr 0.1 baseline"


def test_a_read_only_run_folder_reports_instead_of_losing_the_edit(view, monkeypatch):
    def refuse(*_):
        raise PermissionError("read-only file system")

    monkeypatch.setattr("studio.qt.dashboards.run_table.save_meta", refuse)
    first = view.runs[0]
    model = view.table.model()
    assert not model.setData(model.index(view.row_of(first.path), 0), "new name")
    assert "run.yaml" in view.info.text() and "writable" in view.info.text()


def test_resume_test_and_tensorboard_signals(view, qtbot):
    first = next(r for r in view.runs if r.path.endswith("version_0"))
    view.select_run(first.path)
    checkpoint = str(Path(first.path) / "checkpoints" / "last.ckpt")
    with qtbot.waitSignal(view.resume_requested) as resumed:
        view.resume_button.click()
    assert resumed.args == [checkpoint]
    with qtbot.waitSignal(view.test_requested) as tested:
        view.test_button.click()
    assert tested.args == [checkpoint]
    with qtbot.waitSignal(view.tensorboard_requested) as board:
        view.tensorboard_button.click()
    assert board.args == [first.path]
    (Path(first.path) / "checkpoints" / "last.ckpt").unlink()
    with qtbot.assertNotEmitted(view.resume_requested):
        view.resume_button.click()
    assert "no checkpoint" in view.info.text()


def test_ticking_a_run_in_the_table_overlays_it(view):
    from PySide6.QtCore import Qt

    view.metric_combo.setCurrentText("val_loss")
    first = next(r for r in view.runs if r.path.endswith("version_0"))
    model = view.table.model()
    index = model.index(view.row_of(first.path), 0)
    assert model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)  # as a click does
    assert view.checked_paths() == [first.path] and len(view.overlay.names()) == 1
    assert model.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert view.checked_paths() == [] and view.overlay.names() == []


def test_compare_starts_at_each_runs_last_value(view):
    view.metric_combo.setCurrentText("val_loss")
    view.set_checked([r.path for r in view.runs])
    assert view.step.value() == 0 and view.step.text() == "last"
    rows = {row[0]: row[1:3] for row in view.compare_model.table.rows}
    assert rows == {"mlp_classifier run0ab": [0.7, 30.0], "mlp_classifier run1ab": [0.3, 20.0],
                    "mlp_classifier run2ab": [0.25, 10.0]}
    assert "last step" in view.info.text()
    view.step.setValue(25)
    rows = {row[0]: row[1:3] for row in view.compare_model.table.rows}
    assert rows["mlp_classifier run0ab"] == [0.5, 20.0] and rows["mlp_classifier run2ab"] == [0.25, 10.0]


def test_parallel_coordinates_of_the_ticked_runs(view):
    view.metric_combo.setCurrentText("val_loss")
    view.right_tabs.setCurrentWidget(view.parallel)
    view.set_checked([r.path for r in view.runs])
    axes = view.parallel.axes
    assert [a.name for a in axes] == ["lr", "optimizer", "val_loss (best)"]
    by_run = dict(zip(view.parallel.run_names, zip(*(a.positions for a in axes))))
    assert len(by_run) == 3
    assert axes[1].labels == [(0.0, "adam"), (1.0, "sgd")]
    assert sorted(axes[2].positions) == [0.0, pytest.approx(0.2), 1.0]  # 0.25, 0.3, 0.5 scaled to [0, 1]
    view.set_checked([])
    assert view.parallel.message.isVisible()


def test_runs_view_fits_what_it_gets_at_1280x720_and_uses_1920x1080(qtbot, tmp_path, monkeypatch):
    """The Runs view asks for less than the window gives it at 1280x720 (the table spans the width with the
    actions under it, charts and details below), and puts the actions in two rows when one does not fit."""
    from PySide6.QtWidgets import QApplication

    from studio.app import create_window

    monkeypatch.setenv("TRAINING_STUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    root = tmp_path / "runs"
    for version in range(3):
        folder = make_run(root, version, lr=10.0 ** -version, optimizer="adamw", val_losses=[0.9, 0.5])
        config = json.loads((folder / "events.jsonl").read_text().splitlines()[0])
        config["config"]["hparams"].update({f"hidden_layer_{i}_width": 64 * i for i in range(8)})
        lines = (folder / "events.jsonl").read_text().splitlines()
        (folder / "events.jsonl").write_text("\n".join([json.dumps(config), *lines[1:]]) + "\n")
    window = create_window()
    qtbot.addWidget(window)
    try:
        window.ensure_views()
        view = window.dashboard_views["Runs"]
        view.set_root(str(root))
        view.set_metric_columns(["val_loss", "val_acc"])
        window.views.setCurrentWidget(view)
        window.show()
        qtbot.waitExposed(window)
        buttons = [view.open_button, view.resume_button, view.test_button, view.tensorboard_button,
                   view.report_button]
        for size in ((1280, 720), (1920, 1080)):
            window.resize(*size)
            QApplication.processEvents()
            assert window.size().width() == size[0]
            hint = view.minimumSizeHint()
            assert hint.width() <= view.width() and hint.height() <= view.height(), (size, hint, view.size())
            assert view.table.width() >= view.width() - 20  # the columns get the whole width
            assert view.table.height() >= 150  # at least four rows of runs
            assert view.overlay.height() >= 120 and view.right_tabs.width() >= view.width() - 20
            _assert_actions_shown(view, buttons, rows=1)
        view.setParent(None)  # alone and narrow, as with the forms panel dragged wide
        view.resize(view.minimumSizeHint().width(), 600)
        view.show()
        QApplication.processEvents()
        assert view.width() <= 560
        _assert_actions_shown(view, buttons, rows=2)
        view.close()
    finally:
        window.session.shutdown()
        window.sweep_controller.shutdown()


def _assert_actions_shown(view, buttons, rows):
    assert len({button.y() for button in buttons}) == rows
    for button in buttons:
        assert button.isVisible() and button.width() >= button.minimumSizeHint().width()
        assert view.rect().contains(button.mapTo(view, button.rect().bottomRight()))


def test_parallel_coordinates_titles_and_run_names_fit_a_short_chart(qtbot):
    """At 1280x720 the chart is about 180 px tall: the axis titles stay inside it and the names of runs ending
    at the same value are moved apart, not printed over each other (they were placed in data units before)."""
    from PySide6.QtWidgets import QApplication

    from studio.qt.dashboards.parallel_coords import ParallelCoordinatesView

    view = ParallelCoordinatesView()
    qtbot.addWidget(view)
    view.resize(700, 180)
    view.show()
    qtbot.waitExposed(view)
    view.set_runs(["run a", "run b", "run c", "run d"], [("lr", [0.1, 0.01, 0.001, 0.02])],
                  ("val_loss (best)", [1.0, 1.0, 1.0, 2.0]))
    QApplication.processEvents()
    box = view.plot_item.getViewBox().sceneBoundingRect()
    titles = [title.sceneBoundingRect() for title in view._titles]
    assert len(titles) == 2 and all(box.contains(rect) for rect in titles), (box, titles)
    names = [label.sceneBoundingRect() for _, label in view._names]
    assert len(names) == 4 and all(box.contains(rect) for rect in names)
    assert not any(a.intersects(b) for i, a in enumerate(names) for b in names[i + 1:])
    view.resize(700, 400)  # taller: the same holds after a resize
    QApplication.processEvents()
    names = [label.sceneBoundingRect() for _, label in view._names]
    assert not any(a.intersects(b) for i, a in enumerate(names) for b in names[i + 1:])


def test_build_axes_handles_missing_and_constant_values():
    axes = build_axes([("lr", [0.1, None, 0.1]), ("empty", [None, math.nan, None]), ("flag", [True, False, None])])
    assert [a.name for a in axes] == ["lr", "flag"]
    assert axes[0].positions[0] == 0.5 and math.isnan(axes[0].positions[1])
    assert axes[0].labels == [(0.5, "0.1")]  # the one value is labelled where the lines cross, not at the bottom
    assert math.isnan(axes[1].positions[2])


def test_the_overlay_has_no_legend_over_its_curves_and_the_values_table_is_its_legend(view):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor

    from studio.qt.plot_style import color_for

    view.metric_combo.setCurrentText("val_loss")
    view.set_checked([r.path for r in view.runs])
    assert view.overlay.plot_item.legend is None  # a legend box inside the plot covered the curves at 1280x720
    curves = {view.overlay._labels[k]: view.overlay._items[k].opts["pen"].color().name()
              for k in view.overlay.names()}
    model = view.compare_model
    assert model.rowCount() == 3
    for row in range(model.rowCount()):
        title = model.data(model.index(row, 0))
        swatch = model.data(model.index(row, 0), Qt.ItemDataRole.DecorationRole)
        assert isinstance(swatch, QColor) and swatch.name() == curves[title]
        assert model.data(model.index(row, 1), Qt.ItemDataRole.DecorationRole) is None
    model.sort(1)  # sorting by value keeps each run's colour on its own row
    for row in range(model.rowCount()):
        title = model.data(model.index(row, 0))
        assert model.data(model.index(row, 0), Qt.ItemDataRole.DecorationRole).name() == curves[title]
    assert color_for(0).lower() in curves.values()


def test_the_empty_overlay_says_what_would_fill_it(view, qtbot, session, tmp_path):
    from studio.qt.dashboards.history_view import HistoryView

    view.metric_combo.setCurrentText("val_loss")
    view.set_checked([])
    assert view.overlay_hint.isVisible()
    assert view.overlay_hint.toPlainText() == "Tick runs in the table above to draw their val_loss here."
    view.set_checked([r.path for r in view.runs])
    assert not view.overlay_hint.isVisible()  # curves drawn: nothing to say

    empty = HistoryView(session, root=str(tmp_path / "nothing"))
    qtbot.addWidget(empty)
    empty.show()
    empty.rescan()
    assert empty.overlay_hint.isVisible() and "No runs in this folder yet" in empty.overlay_hint.toPlainText()


def test_parallel_axis_values_sit_above_the_lines_on_a_themed_backing(view, qapp):
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    from studio.qt.plot_style import plot_colors
    from studio.qt.theme import apply_theme

    view.metric_combo.setCurrentText("val_loss")
    view.right_tabs.setCurrentWidget(view.parallel)
    view.set_checked([r.path for r in view.runs])
    items = view.parallel.plot_item.items
    lines = [i for i in items if isinstance(i, pg.PlotCurveItem)]
    values = [i for i in items if isinstance(i, pg.TextItem) and i.toPlainText() in ("adam", "sgd")]
    assert lines and len(values) == 2
    # Drawn under the lines, the values where a bundle of lines meets an axis end were unreadable.
    assert all(v.zValue() > max(line.zValue() for line in lines) for v in values)
    assert all(v.fill.style() != Qt.BrushStyle.NoBrush for v in values)
    try:
        apply_theme(qapp, "dark")
        assert values[0].fill.color().name() == pg.mkColor(plot_colors(True).legend_fill).name()
    finally:
        apply_theme(qapp, "light")
