"""A throw-away OpenSSH server on 127.0.0.1 for the remote tests: fresh host and user keys, a free port.

Nothing outside the temporary folder is used: the client gets ``-i KEY`` and a known-hosts file holding the
server's host key, so host-key checking stays on and the user's own ssh files are untouched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from studio.services.remote.ssh import SshTarget

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sshd_missing() -> str | None:
    """Why no test server can start here (None when it can)."""
    if not os.path.exists(SSHD):
        return "openssh-server is not installed (./dev.sh test installs it when run as root)"
    if shutil.which("ssh-keygen") is None or shutil.which("ssh") is None:
        return "the OpenSSH client (ssh, ssh-keygen) is not installed"
    return None


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)], check=True)


@dataclass
class SshServer:
    """A running sshd and the client settings that reach it."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    target: SshTarget

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_sshd(folder: Path, *, python: str) -> SshServer:
    """Start sshd for the current user on a free port; ``python`` is the remote Python the target names."""
    folder.mkdir(parents=True, exist_ok=True)
    host_key, user_key = folder / "host_key", folder / "user_key"
    _keygen(host_key)
    _keygen(user_key)
    (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
    port = free_port()
    config = folder / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1", f"HostKey {host_key}", f"PidFile {folder / 'sshd.pid'}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}", "PermitRootLogin yes", "StrictModes no",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "PubkeyAuthentication yes",
        "MaxStartups 50", "LogLevel ERROR", "Subsystem sftp internal-sftp", ""]))
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} " + (folder / "host_key.pub").read_text())
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation folder
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config), "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=open(folder / "sshd.log", "wb"))
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited at start: {(folder / 'sshd.log').read_text()[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
    user = os.environ.get("USER") or __import__("pwd").getpwuid(os.geteuid()).pw_name
    target = SshTarget(host="127.0.0.1", user=user, port=port, identity_file=str(user_key),
                       known_hosts_file=str(known_hosts), connect_timeout_s=5, python=python)
    return SshServer(process=process, port=port, folder=folder, target=target)
