"""The `benchmarks` package lives at the repository root, which pytest does not put on sys.path by itself."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
