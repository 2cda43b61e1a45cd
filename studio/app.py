"""Application entry point: ``training-studio`` / ``python -m studio [SCRIPT.py | CONFIG.yaml | RUN_DIR]``."""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time

__all__ = ["main", "create_window"]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="training-studio", description="Train PyTorch models in a desktop app.")
    parser.add_argument("path", nargs="?", help="a model script (.py), a config (.yaml) or a run folder to open")
    parser.add_argument("--theme", choices=("light", "dark"), help="colour theme (remembered)")
    parser.add_argument("--run", choices=("fit", "validate", "test", "predict", "tune", "debug"),
                        help="start this run mode as soon as the window is open (demos, screenshots)")
    parser.add_argument("--show", choices=("project", "model", "trainer", "metrics", "console"),
                        help="the form or view to bring to the front")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, print the start-up time and exit (packaging smoke test)")
    return parser.parse_args(argv)


def create_window(path: str | None = None, *, lazy_views: bool = False):  # noqa: ANN201 - imports Qt lazily
    """Build the main window on ``path`` or the bundled example (a QApplication must exist)."""
    from studio.qt import window_files
    from studio.qt.main_window import MainWindow

    window = MainWindow(lazy_views=lazy_views)
    target = path or (str(window_files.default_example() or "") or None)
    if target:
        window_files.open_path(window, target)
    return window


def _show(window, name: str) -> None:  # noqa: ANN001 - MainWindow, imported lazily
    forms = {"project": 0, "model": 1, "trainer": 2}
    if name in forms:
        window.forms.setCurrentIndex(forms[name])
    else:
        window.ensure_views()
        window.views.setCurrentWidget(window.metrics_view if name == "metrics" else window.console_view)


def main(argv: list[str] | None = None) -> int:
    """Run the studio; returns the exit code."""
    multiprocessing.freeze_support()  # frozen builds: a spawned child must not start a second GUI
    started = time.perf_counter()
    args = _parse(sys.argv[1:] if argv is None else argv)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio.qt.settings import StudioSettings
    from studio.qt.theme import app_icon, app_id, apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Training Studio")
    app.setOrganizationDomain("trainingstudio.github.io")
    app.setDesktopFileName(app_id())
    app.setWindowIcon(app_icon())
    settings = StudioSettings()
    if args.theme:
        settings.set_theme(args.theme)
    apply_theme(app, settings.theme())
    window = create_window(args.path, lazy_views=True)
    window.show()
    if args.show:
        QTimer.singleShot(50, lambda: _show(window, args.show))
    if args.run:
        QTimer.singleShot(0, lambda: window.launch(args.run))
    if args.self_test:
        visible: list[float] = []

        def report() -> None:
            if not visible:
                visible.append(time.perf_counter() - started)
            if not window.views_ready:
                QTimer.singleShot(10, report)
                return
            print(f"studio self-test: window visible after {visible[0]:.3f} s, "
                  f"plots ready after {time.perf_counter() - started:.3f} s")
            window.close()
            app.quit()

        QTimer.singleShot(0, report)
    return app.exec()
