"""Make ``import resources`` find the project package, not this test folder.

pytest puts ``tests/`` on ``sys.path`` (rootdir conftest, "prepend" import mode), where ``tests/resources`` looks
like a namespace package called ``resources``; a regular package on any ``sys.path`` entry wins over a namespace
one, so putting the repository root on the path is enough. ``python -m pytest`` (dev.sh) has the root there already.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
loaded = sys.modules.get("resources")
if loaded is not None and getattr(loaded, "__file__", None) is None:  # the namespace impostor
    del sys.modules["resources"]
