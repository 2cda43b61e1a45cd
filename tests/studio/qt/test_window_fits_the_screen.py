"""The window fits a 1280x720 screen and every view stays reachable (issue 17, bugs 1 and 11)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

FIT_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "dashboard_fit"


def test_long_metric_lines_and_paths_never_widen_the_window(make_window, qtbot):
    window = make_window()
    window.ensure_views()
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    window.session.open_run(FIT_RUN)
    model = window.session.model
    for layer in range(36):  # an autoencoder's per-layer gradient norms
        model.latest[f"grad_2.0_norm/decoder.layer{layer}.weight_step"] = 1.0 + layer
    model.log_dir = "/a/very/long/run/folder/" + "nested/" * 40 + "version_0"
    window.status_view.refresh()
    QApplication.processEvents()  # let the layouts settle
    assert window.minimumSizeHint().width() <= 1280
    assert window.width() == 1280
    metrics = window.status_view.metrics
    assert "decoder.layer35" in metrics.full_text() and metrics.text().endswith("…")
    assert metrics.text().startswith("lr-SGD")  # the script's metrics first, gradient norms after
    assert window.status_view.folder.toolTip() == model.log_dir


def test_every_view_title_is_visible_at_1280x720(make_window, qtbot):
    from studio.qt.dashboards import VIEW_TITLES

    window = make_window()
    window.ensure_views()
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    nav = window.view_area.nav
    titles = window.view_area.titles()
    assert all(title in titles for title in ("Metrics", "Console", *VIEW_TITLES))
    viewport = nav.viewport().rect()
    for row in range(nav.count()):
        assert viewport.contains(nav.visualItemRect(nav.item(row))), nav.item(row).text()  # no scrolling needed
    nav.setCurrentRow(titles.index("Checkpoints"))
    assert window.views.currentWidget() is window.dashboard_views["Checkpoints"]
    window.views.setCurrentWidget(window.dashboard_views["Runs"])
    assert nav.currentItem().text() == "Runs"


def test_the_metric_search_box_shows_its_whole_hint_at_1280x720(make_window, qtbot):
    window = make_window()
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    search = window.metrics_view.search
    hint = search.placeholderText()
    room = search.width() - 12  # the frame and text margins of a line edit
    # At 1280x720 "Search metrics" showed as "Searc..." in the squeezed box.
    assert search.fontMetrics().horizontalAdvance(hint) <= room, (hint, search.width())
