"""Bundled resources: icons, themes, example scripts and the new-project template.

Pure Python on purpose: the GUI process imports this module, and it must never pull in torch, trainer_core or Qt.
Paths resolve inside the installed package, inside a source checkout, and inside a PyInstaller bundle (where the
``resources`` folder is copied next to the frozen modules, see ``packaging/pyinstaller/app.spec``).

Examples:
    >>> from resources import APP_ID, resource_path, example_paths
    >>> resource_path("icons", "app.svg").name
    'app.svg'
    >>> APP_ID
    'io.github.trainingstudio.TrainingStudio'
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

__all__ = [
    "APP_ID",
    "APP_NAME",
    "DEFAULT_EXAMPLE",
    "ICON_SIZES",
    "engine_source_dir",
    "example_config_path",
    "example_paths",
    "icon_path",
    "new_project_template",
    "resource_path",
    "theme_path",
    "theme_stylesheet",
]

#: Reverse-DNS application id. The same string names the .desktop file, the AppStream component and the value the
#: studio passes to ``QGuiApplication.setDesktopFileName`` so docks and Wayland compositors match window and icon.
APP_ID = "io.github.trainingstudio.TrainingStudio"
APP_NAME = "Training Studio"

#: The example the studio opens on first start.
DEFAULT_EXAMPLE = "mlp_classifier.py"

#: PNG icon sizes rendered from icons/app.svg by ``resources/icons/render_icons.py``.
ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)

# Examples in the order the studio lists them (simplest first); any other *.py file found is appended.
_EXAMPLE_ORDER = (
    "mlp_classifier.py",
    "autoencoder.py",
    "lstm_tbptt.py",
    "gan.py",
    "cnn_images.py",
    "datamodule_example.py",
)


def _root() -> Path:
    # PyInstaller one-folder bundles set sys._MEIPASS to the folder holding the collected data files; the spec copies
    # this package there as "resources/". Everywhere else the package directory itself is the root.
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        candidate = Path(bundle) / "resources"
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parent


def engine_source_dir() -> Path | None:
    """Return the folder of plain trainer_core/studio sources shipped in a frozen app, or None when not frozen.

    The frozen GUI holds no torch, so it trains through an external Python interpreter. Putting this folder first on
    that interpreter's ``PYTHONPATH`` lets any Python with torch, numpy, PyYAML and tqdm run the worker without
    Training Studio being installed there. Outside a PyInstaller bundle the packages are importable already.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is None:
        return None
    folder = Path(bundle) / "engine-src"
    return folder if folder.is_dir() else None


def resource_path(*parts: str) -> Path:
    """Return the absolute path of a bundled resource.

    Args:
        *parts: path components below ``resources/``, e.g. ``("icons", "app.svg")``.

    Returns:
        The path. It is not checked for existence so callers can build paths of files they are about to write.
    """
    return _root().joinpath(*parts)


def example_paths() -> list[Path]:
    """Return the bundled example scripts, simplest first.

    Returns:
        Absolute paths of ``resources/examples/*.py`` (package markers and private helpers excluded).
    """
    folder = resource_path("examples")
    found = {p.name: p for p in folder.glob("*.py") if not p.name.startswith("_")}
    ordered = [found.pop(name) for name in _EXAMPLE_ORDER if name in found]
    return ordered + [found[name] for name in sorted(found)]


def example_config_path(example: str | Path) -> Path | None:
    """Return the recommended-flags YAML of an example (``examples/<name>.yaml``), or None when it has none.

    Args:
        example: the example's file name or path.
    """
    candidate = resource_path("examples", Path(example).stem + ".yaml")
    return candidate if candidate.is_file() else None


def icon_path(size: int | None = None) -> Path:
    """Return the application icon: the SVG when ``size`` is None, else the PNG of that size.

    Raises:
        ValueError: if ``size`` is not one of :data:`ICON_SIZES`.
    """
    if size is None:
        return resource_path("icons", "app.svg")
    if size not in ICON_SIZES:
        raise ValueError(f"No {size}px icon is bundled; available sizes are {', '.join(map(str, ICON_SIZES))}.")
    return resource_path("icons", f"app-{size}.png")


def theme_path(name: Literal["light", "dark"]) -> Path:
    """Return the Qt style sheet file of a theme.

    Raises:
        ValueError: if ``name`` is not ``"light"`` or ``"dark"``.
    """
    if name not in ("light", "dark"):
        raise ValueError(f"Unknown theme {name!r}; use 'light' or 'dark'.")
    return resource_path("themes", f"{name}.qss")


def theme_stylesheet(name: Literal["light", "dark"]) -> str:
    """Return the text of a theme's Qt style sheet, ready for ``QApplication.setStyleSheet``.

    Qt resolves ``url(...)`` in a style sheet against the working directory, not the sheet's folder, so the sheets
    write ``@THEMES@`` for their own folder and this function substitutes the absolute path.
    """
    path = theme_path(name)
    return path.read_text(encoding="utf-8").replace("@THEMES@", path.parent.as_posix())


def new_project_template(class_name: str = "MyModel") -> str:
    """Return the commented template script for the studio's "New project" action.

    Args:
        class_name: the name to give the LightningModule subclass; must be a valid Python identifier.

    Raises:
        ValueError: if ``class_name`` is not a valid identifier.
    """
    if not class_name.isidentifier():
        raise ValueError(
            f"{class_name!r} cannot be a Python class name; use letters, digits and underscores, not starting with a "
            "digit (for example 'MyModel')."
        )
    text = resource_path("templates", "new_project.py").read_text(encoding="utf-8")
    return text.replace("MyModel", class_name)
