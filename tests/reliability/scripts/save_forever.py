"""Save a ~16 MB checkpoint to one path over and over (a test SIGKILLs this process in the middle of a save).

Usage: python save_forever.py PATH. Prints ``writing N`` before and ``saved N`` after each save, flushed.
"""

import sys

import torch

from trainer_core.trainer.checkpoint_io import save_checkpoint_file

path = sys.argv[1]
n = 0
while True:
    print(f"writing {n}", flush=True)
    save_checkpoint_file({"n": n, "state_dict": {"w": torch.full((4_000_000,), float(n))}}, path)
    print(f"saved {n}", flush=True)
    n += 1
