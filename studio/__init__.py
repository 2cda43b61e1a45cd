"""Training Studio: the desktop app (PySide6 + pyqtgraph). Never imports torch or trainer_core."""

__all__ = ["__version__"]

__version__ = "0.1.0"
