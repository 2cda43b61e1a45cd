"""Shared pyqtgraph settings and the curve palette (live views: no antialias, pen width 1)."""

from __future__ import annotations

import pyqtgraph as pg

__all__ = ["PALETTE", "color_for", "configure_pyqtgraph"]

# Colour-blind-friendly categorical colours (Okabe-Ito plus a few), readable on light and dark backgrounds.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#8C564B", "#7F7F7F",
           "#17BECF"]


def color_for(index: int) -> str:
    """The palette colour for the ``index``-th series."""
    return PALETTE[index % len(PALETTE)]


def configure_pyqtgraph(dark: bool = False) -> None:
    """Global pyqtgraph options for live plotting (call once, before creating plots)."""
    pg.setConfigOptions(antialias=False, useOpenGL=False, background="#1e1f22" if dark else "w",
                        foreground="#d0d0d0" if dark else "#303030", mouseRateLimit=60)
