"""class_path specs for the object flags (callbacks, logger) in configs and on the command line."""

from __future__ import annotations

import pytest

from trainer_core.exceptions import MisconfigurationError
from trainer_core.loading.objects import instantiate_flag_objects


def test_callbacks_by_name_dotted_and_lightning_path() -> None:
    from trainer_core.callbacks import EarlyStopping, LearningRateMonitor

    flags = instantiate_flag_objects({"callbacks": [
        {"class_path": "EarlyStopping", "init_args": {"monitor": "val_loss", "patience": 7}},
        {"class_path": "pytorch_lightning.callbacks.LearningRateMonitor"},
        "trainer_core.callbacks.Timer",
    ], "max_epochs": 3})
    first, second, third = flags["callbacks"]
    assert isinstance(first, EarlyStopping) and first.patience == 7 and first.monitor == "val_loss"
    assert isinstance(second, LearningRateMonitor)
    assert type(third).__name__ == "Timer"
    assert flags["max_epochs"] == 3


def test_single_callback_becomes_a_list_and_logger_bool_is_kept() -> None:
    flags = instantiate_flag_objects({"callbacks": {"class_path": "Timer"}, "logger": False, "profiler": "simple"})
    assert len(flags["callbacks"]) == 1 and type(flags["callbacks"][0]).__name__ == "Timer"
    assert flags["logger"] is False and flags["profiler"] == "simple"


@pytest.mark.parametrize("spec,message", [
    ({"class_path": "EarlyStoping"}, "no class `EarlyStoping`. Did you mean `EarlyStopping`?"),
    ({"class_path": "EarlyStopping", "args": {}}, "unknown key"),
    ({"class_path": "EarlyStopping", "init_args": {"monitr": "x"}}, r"EarlyStopping\(monitr='x'\) failed"),
])
def test_bad_specs(spec: dict, message: str) -> None:
    with pytest.raises(MisconfigurationError, match=message):
        instantiate_flag_objects({"callbacks": [spec]})
