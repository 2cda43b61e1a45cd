"""Move to Trash for the Runs tab: run folders go to the desktop's trash, where the user can restore them.

``QFile.moveToTrash`` is Qt's own trash support (the freedesktop.org trash on Linux, the Recycle Bin on Windows,
the Finder's Trash on macOS), so nothing the user made is lost by a slip of the Delete key. Where the system offers
no trash for a folder the call returns False; the folder then stays where it is: the studio never falls back to
deleting it for good.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QFile
from PySide6.QtWidgets import QMessageBox, QWidget

from studio.services.session import RunSession

__all__ = ["TrashOutcome", "live_folders", "live_run_folder", "move_runs_to_trash", "trash_runs"]

_LISTED = 10  # folders named one per line in the confirmation; more are counted


@dataclass
class TrashOutcome:
    """What a Move to Trash did.

    Attributes:
        moved: the folders now in the trash.
        message: one line for the user (what moved, what was refused or failed and why); empty when cancelled.
    """

    moved: list[str] = field(default_factory=list)
    message: str = ""


def live_run_folder(session: RunSession) -> str | None:
    """The folder of the run this window trains now or follows live on this computer, or None."""
    model = session.model
    live = session.controller.running or (session.follower is not None and not model.ended)
    if not live or session.remote_location is not None or not model.log_dir:
        return None
    return model.log_dir


def live_folders(session: RunSession, window: QWidget | None) -> list[tuple[str, str]]:
    """Folders something of this window is writing now, each with what it is (never moved to the Trash).

    The session's run (trained or followed live here), and the folder of a sweep the window's sweep controller runs
    (its trials write their run folders under it).
    """
    found = []
    run = live_run_folder(session)
    if run is not None:
        found.append((run, "the run this window is training or following live"))
    sweep = getattr(window, "sweep_controller", None) if window is not None else None
    if sweep is not None and sweep.running and sweep.sweep_dir:
        found.append((sweep.sweep_dir, "in the folder of the sweep this window is running"))
    return found


def _inside(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies under it."""
    path_abs, folder_abs = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return path_abs == folder_abs or folder_abs in path_abs.parents


def _trash(path: str) -> bool:
    result = QFile.moveToTrash(path)
    # PySide6 documents (ok, path in trash) for the static overload; 6.10 returns the bool alone.
    return bool(result[0] if isinstance(result, tuple) else result)


def move_runs_to_trash(paths: list[str]) -> TrashOutcome:
    """Move each run folder to the trash, stopping at the first the system will not take.

    Returns:
        The folders moved, and a message naming the one that failed (which stays in place, as do the rest).
    """
    outcome = TrashOutcome()
    for path in paths:
        if not _trash(path):
            left = len(paths) - len(outcome.moved)
            outcome.message = (
                (f"Moved {len(outcome.moved)} run(s) to the Trash. " if outcome.moved else "")
                + f"Could not move {path} to the Trash: this system offers no trash for that folder (on Linux the "
                "freedesktop trash needs ~/.local/share to exist, or a .Trash folder on that drive). Nothing was "
                f"deleted: {left} folder(s) are where they were; delete them in a file manager if you mean to.")
            return outcome
        outcome.moved.append(path)
    outcome.message = f"Moved {len(outcome.moved)} run(s) to the Trash: " + ", ".join(outcome.moved) + \
        " (restore them from the desktop's Trash)."
    return outcome


def _ask(parent: QWidget, icon: QMessageBox.Icon, title: str, text: str, details: str,
         buttons: QMessageBox.StandardButton, default: QMessageBox.StandardButton) -> QMessageBox.StandardButton:
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setInformativeText(details)
    box.setDefaultButton(default)
    return QMessageBox.StandardButton(box.exec())


def trash_runs(parent: QWidget, session: RunSession, paths: list[str]) -> TrashOutcome:
    """Confirm, then move the run folders ``paths`` to the trash; a run training or followed live is refused.

    Args:
        parent: the dialogs' parent.
        session: the window's session (its live run is never moved).
        paths: the selected runs' folders.

    Returns:
        What moved and the line to show; nothing moves when the user cancels or a selected run is live.
    """
    busy = [(path, what) for path in paths for folder, what in live_folders(session, parent.window())
            if _inside(folder, path) or _inside(path, folder)]
    if busy:
        path, what = busy[0]
        text = (f"{path} is {what}: it cannot go to the Trash while it runs. Stop it (or let it finish) first. "
                "Nothing was moved.")
        _ask(parent, QMessageBox.Icon.Warning, "Move to Trash", "A running run cannot be moved to the Trash.", text,
             QMessageBox.StandardButton.Ok, QMessageBox.StandardButton.Ok)
        return TrashOutcome(message=text)
    listed = "\n".join(paths[:_LISTED]) + (f"\n… and {len(paths) - _LISTED} more" if len(paths) > _LISTED else "")
    answer = _ask(parent, QMessageBox.Icon.Question, "Move to Trash",
                  f"Move {len(paths)} run folder(s) to the Trash?",
                  f"{listed}\n\nThe whole folder goes (events, checkpoints, logs, run.yaml); it can be restored from "
                  "the desktop's Trash.",
                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                  QMessageBox.StandardButton.Cancel)
    if answer != QMessageBox.StandardButton.Yes:
        return TrashOutcome()
    return move_runs_to_trash(paths)
