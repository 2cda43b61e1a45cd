"""The servers the user has connected to, kept in the studio's settings so that "Run on" offers them again.

Only what the connection needs is kept (host, user, port, key file path, remote Python, runs folder); there is no
password to keep: the system ssh client uses the agent and the keys.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings

from studio.services.remote.ssh import SshTarget

__all__ = ["MAX_SERVERS", "forget_server", "remember_server", "saved_servers"]

_KEY = "remote/servers"
MAX_SERVERS = 8  # the newest first; older ones drop off the list


def _record(target: SshTarget) -> dict[str, object]:
    return {"host": target.host, "user": target.user, "port": target.port, "key": target.identity_file,
            "python": target.python}


def _same(a: SshTarget, b: SshTarget) -> bool:
    return (a.host, a.user, a.port) == (b.host, b.user, b.port)


def saved_servers(settings: QSettings) -> list[SshTarget]:
    """The kept servers, the most recently connected first (entries that cannot be read are skipped)."""
    try:
        records = json.loads(str(settings.value(_KEY) or "[]"))
    except ValueError:
        return []
    servers = []
    for record in records if isinstance(records, list) else []:
        try:
            servers.append(SshTarget(host=str(record["host"]), user=record.get("user") or None,
                                     port=int(record["port"]) if record.get("port") else None,
                                     identity_file=record.get("key") or None,
                                     python=str(record.get("python") or "python3")))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return servers


def remember_server(settings: QSettings, target: SshTarget) -> None:
    """Put ``target`` first in the kept list (replacing an entry for the same user, host and port)."""
    servers = [target, *(server for server in saved_servers(settings) if not _same(server, target))]
    settings.setValue(_KEY, json.dumps([_record(server) for server in servers[:MAX_SERVERS]]))
    settings.sync()


def forget_server(settings: QSettings, target: SshTarget) -> None:
    """Drop ``target`` from the kept list."""
    servers = [server for server in saved_servers(settings) if not _same(server, target)]
    settings.setValue(_KEY, json.dumps([_record(server) for server in servers]))
    settings.sync()
