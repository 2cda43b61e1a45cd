"""Pinned Qt stack smoke test (PySide6 6.10.3 + pyqtgraph 0.14.0): thousands of repaints, then PNG/SVG/CSV export.

PySide6 6.12.0 with Python 3.11 crashed here ("deallocating None"), 6.11.x broke SVG export; an upgrade that
brings either back fails this test.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers the exporters
import PySide6


def test_pinned_versions():
    assert PySide6.__version__ == "6.10.3"
    assert pg.__version__ == "0.14.0"


def test_thousands_of_repaints_then_exports(qtbot, tmp_path):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 360)
    widget.show()
    plot = widget.getPlotItem()
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)
    curve = plot.plot(name="loss")
    x = np.arange(20_000, dtype=np.float64)
    y = np.sin(x / 300.0)
    for frame in range(2_000):
        n = 1_000 + frame * 9
        curve.setData(x[:n], y[:n], skipFiniteCheck=True)
        widget.repaint()
    assert len(curve.getData()[0]) > 0
    png, svg, csv = tmp_path / "p.png", tmp_path / "p.svg", tmp_path / "p.csv"
    pg.exporters.ImageExporter(plot).export(str(png))
    pg.exporters.SVGExporter(plot).export(str(svg))
    pg.exporters.CSVExporter(plot).export(str(csv))
    assert png.stat().st_size > 1000
    assert "<svg" in svg.read_text()
    header = csv.read_text().splitlines()[0]
    assert "loss" in header
