"""Entry script of the frozen studio (PyInstaller runs this file as ``__main__``).

``multiprocessing.freeze_support()`` must come first: PyInstaller's multiprocessing runtime hook relies on it so a
child process started from the frozen app runs its task instead of opening a second main window.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from studio.app import main

    sys.exit(main())
