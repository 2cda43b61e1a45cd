"""The run toolbar's "Run on" choice: this computer, a server over SSH, or a SLURM cluster.

Fit, Tune, Sweep (and the other modes) start where it points: here as a child process (the default), detached on
a server with the same config file the CLI takes, or as a SLURM job whose batch script is shown for review first
(see :mod:`studio.qt.run_target_launch`). The servers offered are the ones the user connected to (File ▸ Connect
to a server…, kept in the settings) plus any connected in this session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolBar, QWidget

from studio.services.remote.servers import saved_servers
from studio.services.remote.slurm import SlurmShell
from studio.services.remote.ssh import SshTarget

__all__ = ["LOCAL", "SERVER", "SLURM", "RunTarget", "RunTargetBox", "current_target", "install"]

LOCAL, SERVER, SLURM = "local", "server", "slurm"
_CONNECT = "connect"  # the last entry: opens File ▸ Connect to a server…


@dataclass(frozen=True, kw_only=True)
class RunTarget:
    """Where a run starts.

    Attributes:
        kind: ``local`` (a child process here), ``server`` (detached over SSH) or ``slurm`` (a batch job).
        server: the SSH server (``server``), or the cluster's login node (``slurm``; None: ``sbatch`` runs on this
            computer, which shares the cluster's file system).
        slurm_env: variables for SLURM's commands (e.g. ``SLURM_CONF`` of a test cluster).
    """

    kind: str = LOCAL
    server: SshTarget | None = None
    slurm_env: tuple[tuple[str, str], ...] = ()

    def label(self) -> str:
        """The entry as the selector shows it."""
        if self.kind == SERVER and self.server is not None:
            return f"{self.server.label()} (ssh)"
        if self.kind == SLURM:
            return f"SLURM on {self.server.label() if self.server is not None else 'this computer'}"
        return "This computer"

    def slurm_shell(self) -> SlurmShell:
        """Where this target's SLURM commands run."""
        return SlurmShell(target=self.server, env=self.slurm_env)


def _same_place(a: RunTarget, b: RunTarget) -> bool:
    def where(server: SshTarget | None) -> tuple[Any, ...]:
        return (server.host, server.user, server.port) if server is not None else ()

    return a.kind == b.kind and where(a.server) == where(b.server)


class RunTargetBox(QWidget):
    """"Run on: [This computer ▾]": the entries are :class:`RunTarget` values.

    Signals:
        changed(object): the chosen :class:`RunTarget`.
        connect_requested(): the user picked "Connect to a server…" (the choice stays as it was).
    """

    changed = Signal(object)
    connect_requested = Signal()

    def __init__(self, *, settings: QSettings | None = None, local_slurm: bool | None = None,
                 parent: QWidget | None = None) -> None:
        """``local_slurm``: offer "SLURM on this computer" (None: when ``sbatch`` is on PATH)."""
        super().__init__(parent)
        self.setObjectName("runTarget")
        self.combo = QComboBox()
        self.combo.setObjectName("runTargetCombo")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setToolTip("Where Fit, Tune and Sweep run: here, detached on a server over SSH (it goes on if "
                              "the connection drops), or as a SLURM job (the batch script is shown first)")
        label = QLabel("Run on")
        label.setBuddy(self.combo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 8, 0)
        layout.setSpacing(6)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        self._targets: list[RunTarget] = [RunTarget()]
        self._servers: list[SshTarget] = list(saved_servers(settings)) if settings is not None else []
        self._local_slurm = SlurmShell.local_available() if local_slurm is None else local_slurm
        self._chosen = RunTarget()
        self._rebuild()
        self.combo.activated.connect(self._activated)

    def targets(self) -> list[RunTarget]:
        """Every entry, in the order shown."""
        return list(self._targets)

    def current(self) -> RunTarget:
        """The chosen target."""
        return self._chosen

    def add_server(self, server: SshTarget) -> None:
        """Offer ``server`` (and SLURM on it); a server already offered is replaced (its settings may differ)."""
        self._servers = [server, *(s for s in self._servers
                                   if (s.host, s.user, s.port) != (server.host, server.user, server.port))]
        if self._chosen.server is not None and (self._chosen.server.host, self._chosen.server.user,
                                                self._chosen.server.port) == (server.host, server.user, server.port):
            self._chosen = RunTarget(kind=self._chosen.kind, server=server, slurm_env=self._chosen.slurm_env)
        self._rebuild()

    def set_current(self, target: RunTarget) -> None:
        """Choose ``target`` (its server is offered first when it is new)."""
        if target.server is not None and not any(_same_place(target, known) for known in self._targets):
            self.add_server(target.server)
        self._chosen = target
        self._rebuild()
        self.changed.emit(target)

    def _rebuild(self) -> None:
        targets = [RunTarget()]
        targets += [RunTarget(kind=SERVER, server=server) for server in self._servers]
        targets += [RunTarget(kind=SLURM, server=server) for server in self._servers]
        if self._local_slurm:
            targets.append(RunTarget(kind=SLURM))
        # The chosen entry keeps its own settings (a test cluster's environment, a known-hosts file).
        self._targets = [self._chosen if _same_place(target, self._chosen) else target for target in targets]
        if not any(_same_place(target, self._chosen) for target in self._targets):
            self._chosen = RunTarget()
        self.combo.blockSignals(True)
        self.combo.clear()
        for target in self._targets:
            self.combo.addItem(target.label())
        self.combo.insertSeparator(self.combo.count())
        self.combo.addItem("Connect to a server…", _CONNECT)
        self.combo.setCurrentIndex(next(i for i, t in enumerate(self._targets) if _same_place(t, self._chosen)))
        self.combo.blockSignals(False)

    def _activated(self, index: int) -> None:
        if self.combo.itemData(index) == _CONNECT:
            self._rebuild()  # the choice stays until a connection works
            self.connect_requested.emit()
            return
        if 0 <= index < len(self._targets) and self._targets[index] != self._chosen:
            self._chosen = self._targets[index]
            self.changed.emit(self._chosen)


def install(window: Any, toolbar: QToolBar, *, on_connect: Callable[[], Any]) -> RunTargetBox:
    """Put the selector first on ``toolbar`` as ``window.run_target_box``; its "Connect to a server…" calls
    ``on_connect`` (the window's Connect dialog, whose working connections are then offered)."""
    box = RunTargetBox(settings=window.settings.qsettings, parent=toolbar)
    first = toolbar.actions()[0] if toolbar.actions() else None
    action = toolbar.insertWidget(first, box) if first is not None else toolbar.addWidget(box)
    action.setObjectName("runTargetAction")
    window.run_target_box = box
    box.connect_requested.connect(on_connect)
    return box


def current_target(window: Any) -> RunTarget:
    """The window's chosen target (this computer for a window without the selector)."""
    box = getattr(window, "run_target_box", None)
    return box.current() if box is not None else RunTarget()
