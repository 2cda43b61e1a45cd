"""``python -m trainer_core SUBCOMMAND ...``: the command line (see :mod:`trainer_core.cli`)."""

import os
import sys

if not __package__:
    # Run by path: strategy="ddp" re-runs sys.argv[0] once per rank. The package folder must not become sys.path[0],
    # where its modules (trainer, callbacks, ...) would shadow top-level names; its parent makes the package findable.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

from trainer_core.cli import main  # noqa: E402

sys.exit(main())
