"""``python -m trainer_core SUBCOMMAND ...``: the command line (see :mod:`trainer_core.cli`)."""

import sys

from trainer_core.cli import main

sys.exit(main())
