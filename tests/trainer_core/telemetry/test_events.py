import math

import torch

from trainer_core.telemetry import events as ev


def test_studio_copy_of_event_types_matches():
    from studio.protocol import events as studio_events

    assert studio_events.EVENT_TYPES == ev.EVENT_TYPES
    assert studio_events.NEVER_DROPPED == ev.NEVER_DROPPED


def test_to_float_handles_tensors_numbers_and_rejects_the_rest():
    assert ev.to_float(torch.tensor(2.5)) == 2.5
    assert ev.to_float(3) == 3.0 and ev.to_float(True) == 1.0
    assert ev.to_float(torch.ones(3)) is None
    assert ev.to_float("x") is None


def test_json_safe_turns_non_finite_and_objects_into_text():
    out = ev.json_safe({"a": math.nan, "b": [1, math.inf], "c": object(), 4: torch.tensor(1.5)})
    assert out["a"] == "nan" and out["b"] == [1, "inf"] and out["c"].startswith("<object")
    assert out["4"] == 1.5
