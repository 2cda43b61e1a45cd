"""Writing a user's file so that it is always either the old or the new content, never a torn mix.

The studio saves files people keep and edit (a run config from Save config, a new project's script). Writing over
the file itself would leave it cut short if the studio is killed, the machine loses power or the disk fills half-way;
instead the text goes to a temporary file in the same folder, is flushed to the disk, and is renamed over the old
file, which POSIX and Windows both do in one step.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["write_text_atomically"]


def write_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path``'s content with ``text`` (UTF-8) in one step: readers see the old or the new file.

    The temporary file sits beside ``path`` (a rename across file systems is not atomic) and is removed when the
    write fails; a process killed mid-write can leave a hidden ``.NAME.*.tmp`` beside it, never a torn ``path``.

    Raises:
        OSError: the folder cannot be written (no permission, disk full); ``path`` is left as it was.
    """
    target = Path(path)
    data = text.encode("utf-8")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    # 0o666 minus the umask, as an ordinary save would create it (mkstemp's 0o600 would hide a shared config).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)  # on the disk before the rename, so a power cut cannot leave an empty file under the name
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable; some file systems refuse a folder fsync
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
