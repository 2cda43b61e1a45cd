"""The child-process side of a studio run: imports torch and trainer_core, never Qt.

Only :mod:`studio.worker.entry` is referenced by the GUI (as the ``multiprocessing`` target); it imports nothing
heavy at module level, so referencing it keeps torch out of the GUI process.
"""
