"""Images and Distributions tabs on a recorded run (tests/studio/fixtures/media_run, made by make_media_run.py):
reopened from the folder and fed live; the media model on its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from dashboard_helpers import FIXTURES, feed, show
from PySide6.QtCore import Qt

from studio.models.dashboards.media import MediaStore, resample_counts

MEDIA_RUN = FIXTURES / "media_run"


@pytest.fixture
def media_events():
    from studio.models.run_state import load_events

    return load_events(MEDIA_RUN / "events.jsonl")


@pytest.fixture
def moved_run(tmp_path: Path) -> Path:
    """The recorded run copied to a new place: media paths must resolve against where the folder is now."""
    target = tmp_path / "somewhere" / "version_3"
    shutil.copytree(MEDIA_RUN, target)
    return target


def test_store_keeps_images_sorted_and_replaces_a_relogged_step() -> None:
    store = MediaStore()
    for step, path in ((4, "a4"), (0, "a0"), (8, "a8"), (4, "a4b")):
        store.add({"type": "image", "tag": "a", "step": step, "path": path})
    assert store.image_steps("a") == [0, 4, 8]
    assert store.image_at("a", 4).path == "a4b"
    assert store.image_at("a", 6).path == "a4b", "between steps: the last image before"
    assert store.image_at("a").path == "a8"
    store.run_dir = "/runs/v0"
    assert store.resolve(store.image_at("a")) == "/runs/v0/a8"


def test_resampling_keeps_the_mass_and_its_place() -> None:
    counts = np.array([2.0, 0.0, 6.0])  # over 0..3
    edges = np.array([0.0, 1.5, 3.0])
    assert resample_counts(counts, 0.0, 3.0, edges).tolist() == [2.0, 6.0]
    assert resample_counts(np.array([5.0]), 2.0, 2.0, edges).tolist() == [0.0, 5.0], "zero width: one bin"


def test_histogram_matrix_thins_many_steps_and_keeps_the_newest() -> None:
    store = MediaStore()
    for step in range(1000):
        store.add({"type": "histogram", "tag": "w", "step": step, "min": 0.0, "max": 1.0, "counts": [1, 1]})
    steps, edges, matrix = store.histogram_matrix("w", value_bins=4, max_steps=100)
    assert len(steps) == 100 and steps[0] == 0 and steps[-1] == 999
    assert matrix.shape == (100, 4) and np.allclose(matrix.sum(axis=1), 2.0)
    assert edges.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_images_view_reopened_from_a_moved_folder(qtbot, session, moved_run) -> None:
    from studio.qt.dashboards.images_view import ImagesView

    view = show(qtbot, ImagesView(session))
    assert view.status.isVisible() and "add_image" in view.status.text()
    session.open_run(moved_run)
    qtbot.waitUntil(lambda: len(view.panels) == 2)
    sampler = view.panels["TinyGenerator_images"]
    assert sampler.shown_step == 12 and sampler.shown_path.startswith(str(moved_run))
    assert not sampler.image.pixmap().isNull()
    assert "3/3" in sampler.step_label.text()
    sampler.slider.setValue(0)
    assert sampler.shown_step == 4
    assert not view.status.isVisible()


def test_images_view_follows_the_run_live_until_moved_back(qtbot, session, media_events) -> None:
    from studio.qt.dashboards.images_view import ImagesView

    session.model.media.run_dir = str(MEDIA_RUN)
    view = show(qtbot, ImagesView(session))
    images = [i for i, e in enumerate(media_events) if e["type"] == "image" and e["tag"] == "TinyGenerator_images"]
    feed(session, media_events[: images[1] + 1])
    tag = "TinyGenerator_images"
    qtbot.waitUntil(lambda: tag in view.panels and view.panels[tag].shown_step == 8)
    panel = view.panels[tag]
    panel.slider.setValue(0)  # the user looks back at the first image
    feed(session, media_events[images[1] + 1 :])
    qtbot.waitUntil(lambda: panel.slider.maximum() == 2)
    assert panel.shown_step == 4, "moved back: stays put while new images arrive"
    panel.slider.setValue(panel.slider.maximum())
    assert panel.shown_step == 12


def test_images_filter_zoom_and_export(qtbot, session, moved_run, tmp_path, monkeypatch) -> None:
    from studio.qt.dashboards import images_view
    from studio.qt.dashboards.images_view import ImagesView

    view = show(qtbot, ImagesView(session))
    session.open_run(moved_run)
    qtbot.waitUntil(lambda: len(view.panels) == 2)
    view.filter.setText("batch")
    assert not view.panels["TinyGenerator_images"].isVisible() and view.panels["batch"].isVisible()
    panel = view.panels["batch"]
    with qtbot.waitSignal(view.zoom_opened) as opened:
        qtbot.mouseClick(panel.image, Qt.MouseButton.LeftButton)
    assert opened.args == [panel.shown_path] and view.zoom is not None and view.zoom.isVisible()
    target = tmp_path / "out.png"
    monkeypatch.setattr(images_view, "ask_save_path", lambda *args: str(target))
    panel.export_button.click()
    assert target.read_bytes() == Path(panel.shown_path).read_bytes()


def test_distributions_view_heatmap_ridge_and_filter(qtbot, session, media_events) -> None:
    from studio.qt.dashboards.distributions_view import DistributionsView

    view = show(qtbot, DistributionsView(session))
    assert view.status.isVisible() and "ModuleDataMonitor" in view.status.text()
    feed(session, media_events)
    qtbot.waitUntil(lambda: view.tags.count() == 4)
    assert [view.tags.item(i).text() for i in range(4)] == ["input/hidden", "output/hidden", "input/out", "output/out"]
    assert view.current_tag == "input/hidden"
    assert view.steps.tolist() == [0, 2, 4, 6, 8, 10] and view.matrix.shape == (6, 64)
    assert np.allclose(view.matrix.sum(axis=1), 1.0), "each step's histogram as fractions"
    assert view.heat.isVisible() and view.heat.image is not None
    view.mode.setCurrentIndex(1)
    assert len(view.ridges) == 6 and not view.heat.isVisible()
    view.filter.setText("output")
    assert [view.tags.item(i).text() for i in range(view.tags.count())] == ["output/hidden", "output/out"]
    assert view.current_tag == "output/hidden"
    with qtbot.waitSignal(view.tag_shown) as shown:
        view.tags.setCurrentRow(1)
    assert shown.args == ["output/out"]
    out = [e for e in media_events if e["type"] == "histogram" and e["tag"] == "output/out"]
    assert view.edges[0] == pytest.approx(min(e["min"] for e in out))


def test_text_events_reach_the_console(session, media_events) -> None:
    feed(session, media_events)
    lines = [text for level, text in session.model.console if level == "text"]
    assert lines[0] == "[notes @ step 0] epoch 0 started" and len(lines) == 3
    assert session.model.media.text_rows()[-1] == (8, "notes", "epoch 2 started")


def test_spread_of_series_counts_each_layer_once_per_step() -> None:
    from studio.models.dashboards.media import spread_of_series

    x = np.array([0.0, 1.0, 2.0])
    columns = [(x, np.array([1.0, 10.0, 100.0])), (x, np.array([1.0, 1.0, 1.0])), (x[:1], np.array([0.0]))]
    steps, edges, matrix = spread_of_series(columns, value_bins=2)
    assert steps.tolist() == [0, 1, 2] and edges.tolist() == [0.0, 1.0, 2.0]
    assert matrix.tolist() == [[2, 0], [1, 1], [1, 1]], "log10: 0 and 0; 1 and 0; 2 and 0 (0.0 is left out)"


def test_distributions_view_shows_the_grad_norms_of_a_recorded_fit(qtbot, session, fit_events) -> None:
    from studio.qt.dashboards.distributions_view import GRAD_NORM_TAG, DistributionsView

    view = show(qtbot, DistributionsView(session))
    feed(session, fit_events)
    qtbot.waitUntil(lambda: view.tags.count() == 1)
    assert view.tags.item(0).text() == GRAD_NORM_TAG and view.current_tag == GRAD_NORM_TAG
    assert not view.status.isVisible()
    assert view.matrix.shape[0] == 48 and np.allclose(view.matrix.sum(axis=1), 1.0)


def test_images_of_another_run_side_by_side_at_the_same_step(qtbot, session, moved_run, tmp_path) -> None:
    from studio.qt.dashboards.images_view import ImagesView

    other = tmp_path / "other" / "version_9"
    shutil.copytree(MEDIA_RUN, other)
    view = show(qtbot, ImagesView(session))
    session.open_run(moved_run)
    qtbot.waitUntil(lambda: len(view.panels) == 2)
    with pytest.raises(FileNotFoundError, match="no events.jsonl"):
        view.add_comparison(str(tmp_path))
    with qtbot.waitSignal(view.comparison_added):
        view.add_comparison(str(other))
    panel = view.panels["TinyGenerator_images"]
    image, caption = panel.compare_labels[0]
    assert caption.text() == "version_9 @ step 12" and not image.pixmap().isNull()
    panel.slider.setValue(1)
    assert panel.shown_step == 8 and caption.text() == "version_9 @ step 8"
    assert view.clear_compare_button.isEnabled()
    view.clear_comparisons()
    assert panel.compare_labels == [] and not view.clear_compare_button.isEnabled()


def test_distributions_heatmap_has_a_colour_scale_in_shares(qtbot, session, media_events) -> None:
    import math

    from studio.qt.dashboards.distributions_view import DistributionsView, share_ticks

    view = show(qtbot, DistributionsView(session))
    feed(session, media_events)
    qtbot.waitUntil(lambda: view.tags.count() == 4)
    # Without a scale the colours had no numbers; the bar reads in shares placed at their sqrt positions.
    assert view.color_bar.isVisible()
    top = math.sqrt(float(view.matrix.max()))
    assert view.color_bar.levels() == pytest.approx((0.0, top))
    labels = [label for _pos, label in view.color_bar.axis._tickLevels[0]]
    assert labels[0] == "0%" and all(label.endswith("%") for label in labels)
    view.mode.setCurrentIndex(1)  # ridges: each scaled to its own peak, no shared colour scale
    assert not view.color_bar.isVisible()
    ticks = share_ticks(math.sqrt(0.3))  # the brightest cell holds 30 % of a step's values
    assert [label for _pos, label in ticks] == ["0%", "2%", "5%", "10%", "20%"]
    assert all(pos == pytest.approx(math.sqrt(float(label[:-1]) / 100)) for pos, label in ticks)
