"""Save a run config to one path over and over, as the studio's Save config does (a test SIGKILLs this process).

Usage: python save_config_child.py PATH SIZE [MOMENT K]. Save N holds ``init_args: {n: N, blob: LETTER * SIZE}``
(the letter alternates A/B, so a torn mix of two saves shows); prints ``saved N`` after each save, flushed. With
MOMENT, save K kills this process itself at that moment: ``mid-write`` (half of the bytes written) or
``before-rename`` (the temporary file complete, not yet renamed).
"""

import os
import signal
import sys

from studio.models.config import RunConfig

path, size = sys.argv[1], int(sys.argv[2])
moment, kill_at = (sys.argv[3], int(sys.argv[4])) if len(sys.argv) > 4 else (None, -1)
n = 0


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if moment == "mid-write":
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if n == kill_at and len(data) > 1:
            real_write(fd, bytes(data[: len(data) // 2]))
            _die()
        return real_write(fd, data)

    os.write = write
elif moment == "before-rename":
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        if n == kill_at:
            _die()
        real_replace(src, dst)

    os.replace = replace

while True:
    config = RunConfig(model_script="model.py", model_class="Net",
                       model_init_args={"n": n, "blob": "AB"[n % 2] * size}, trainer_flags={"max_epochs": n + 1})
    config.save(path)
    print(f"saved {n}", flush=True)
    n += 1
