"""TestTubeLogger: removed (its ``test-tube`` package is unmaintained); the name stays to say what to use instead."""

from __future__ import annotations

from typing import Any

from trainer_core.exceptions import MisconfigurationError

__all__ = ["TestTubeLogger"]


class TestTubeLogger:
    """Raises on construction: use ``TensorBoardLogger`` (the same ``save_dir/name/version_N`` folders).

    Lightning deprecated TestTubeLogger in 1.5 and removed it in 1.7; its package has had no release since 2019.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise MisconfigurationError(
            "TestTubeLogger was removed (the test-tube package is unmaintained). Use "
            "trainer_core.loggers.TensorBoardLogger(save_dir, name=..., version=...), which writes the same "
            "save_dir/name/version_N folders, or CSVLogger")
