"""The SSH connection settings, the ``ssh``/``scp`` command lines built from them, and clear errors.

Blocking helpers here (:func:`run_remote`) are for worker threads; the GUI thread uses ``QProcess`` (see
:mod:`studio.services.remote.follower`) or runs them through :mod:`studio.services.remote.calls`.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field

__all__ = ["RemoteError", "SshTarget", "explain_failure", "run_remote"]

# ssh exits with 255 for its own errors (connect, auth, host key); anything else is the remote command's status.
SSH_FAILED = 255
COMMAND_NOT_FOUND = 127


class RemoteError(RuntimeError):
    """A remote call failed; the message is one line naming what failed and how to fix it."""


@dataclass(frozen=True, kw_only=True)
class SshTarget:
    """Where and how to connect.

    Attributes:
        host: host name or an alias from the user's ssh config.
        user: login name (None: as the ssh config says).
        port: SSH port (None: as the ssh config says).
        identity_file: a private key (None: the ssh agent and the config's keys).
        known_hosts_file: a known-hosts file used instead of the user's (tests; None: as the config says).
        connect_timeout_s: seconds to wait for the server to answer.
        python: the remote Python that runs ``trainer_core`` (an absolute path when it is not on the login PATH).
        options: more ``-o Key=Value`` options.
    """

    host: str
    user: str | None = None
    port: int | None = None
    identity_file: str | None = None
    known_hosts_file: str | None = None
    connect_timeout_s: int = 10
    python: str = "python3"
    options: tuple[str, ...] = field(default_factory=tuple)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def label(self) -> str:
        """``user@host:port`` as shown to the user."""
        return self.destination + (f":{self.port}" if self.port else "")

    def _options(self) -> list[str]:
        # BatchMode: never prompt (the GUI has no terminal) and so never take a password.
        opts = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={self.connect_timeout_s}",
                "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
        if self.identity_file:
            opts += ["-i", self.identity_file]
        if self.known_hosts_file:
            opts += ["-o", f"UserKnownHostsFile={self.known_hosts_file}"]
        for option in self.options:
            opts += ["-o", option]
        return opts

    def ssh_argv(self, command: str | list[str]) -> list[str]:
        """``ssh ... DEST COMMAND``; a list is quoted for the remote shell, a string is passed as it is."""
        remote = command if isinstance(command, str) else shlex.join(command)
        port = ["-p", str(self.port)] if self.port else []
        return ["ssh", *self._options(), *port, self.destination, remote]

    def scp_argv(self, sources: list[str], destination: str, *, recursive: bool = False) -> list[str]:
        """``scp`` with the same settings; remote paths are written ``:PATH`` and get this target's host."""
        def where(path: str) -> str:
            return f"{self.destination}{path}" if path.startswith(":") else path

        port = ["-P", str(self.port)] if self.port else []
        flags = ["-r"] if recursive else []
        return ["scp", "-q", "-p", *flags, *self._options(), *port, *map(where, sources), where(destination)]


_SSH_ERRORS: list[tuple[str, str]] = [
    (r"timed out|Operation timed out",
     "{host} does not answer (no reply within {timeout} s): check the host name, the port and your network or VPN."),
    (r"Connection refused",
     "{host} refused the connection: no SSH server listens on that port; check the port number."),
    (r"Could not resolve hostname|Name or service not known",
     "cannot find the host {host}: check its spelling or add it to ~/.ssh/config."),
    (r"Network is unreachable|No route to host",
     "{host} cannot be reached from this computer (no route): check your network or VPN."),
    (r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED",
     "{host}'s host key is unknown or has changed: run `ssh {dest}` once in a terminal to check and accept it."),
    (r"Permission denied",
     "{host} refused the login for {dest}: add your public key to the server's ~/.ssh/authorized_keys, or load "
     "your key into the ssh agent (ssh-add), or choose the right key file."),
]


def explain_failure(target: SshTarget, returncode: int, stderr: str, *, what: str = "the remote command") -> str:
    """One line naming what failed and how to fix it, from an ``ssh`` exit status and its stderr."""
    text = stderr.strip()
    if returncode == SSH_FAILED:
        for pattern, message in _SSH_ERRORS:
            if re.search(pattern, text):
                return "SSH: " + message.format(host=target.label(), dest=target.destination,
                                                timeout=target.connect_timeout_s)
        last = text.splitlines()[-1] if text else "no message"
        return f"SSH to {target.label()} failed: {last}"
    if returncode == COMMAND_NOT_FOUND:
        return (f"{what} on {target.label()} failed: a program was not found there ({_last_line(text)}); set the "
                f"remote Python (now {target.python!r}) to one that exists, e.g. /opt/conda/bin/python.")
    return f"{what} on {target.label()} failed (status {returncode}): {_last_line(text)}"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


def run_remote(target: SshTarget, command: str | list[str], *, timeout_s: float = 30.0, what: str = "",
               input_bytes: bytes | None = None) -> str:
    """Run one command over ssh and return its stdout (blocking: call it off the GUI thread).

    Raises:
        RemoteError: the connection or the command failed, or it took longer than ``timeout_s``.
    """
    argv = target.ssh_argv(command)
    try:
        done = subprocess.run(argv, input=input_bytes, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RemoteError(f"{what or 'the remote command'} on {target.label()} took longer than {timeout_s:g} s "
                          "and was stopped; the server may be overloaded or the connection stuck.") from exc
    except FileNotFoundError as exc:
        raise RemoteError("the ssh client is not installed: install OpenSSH (Debian/Ubuntu: "
                          "apt-get install openssh-client).") from exc
    if done.returncode != 0:
        raise RemoteError(explain_failure(target, done.returncode, done.stderr.decode(errors="replace"),
                                          what=what or "the remote command"))
    return done.stdout.decode(errors="replace")
