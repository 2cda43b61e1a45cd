"""Precision plugins: one small class per mode, picked by the 2.x precision string."""

from trainer_core.precision.plugins import (
    DoublePrecision,
    HalfTruePrecision,
    MixedPrecision,
    Precision,
    select_precision,
)

__all__ = ["Precision", "MixedPrecision", "DoublePrecision", "HalfTruePrecision", "select_precision"]
