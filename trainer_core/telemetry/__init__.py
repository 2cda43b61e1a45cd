"""The telemetry event stream: event definitions and the EventRecorder callback (see docs/events.md)."""

from trainer_core.telemetry import events
from trainer_core.telemetry.events import EVENT_FIELDS, EVENT_TYPES
from trainer_core.telemetry.recorder import EventRecorder, describe_exception

__all__ = ["EVENT_FIELDS", "EVENT_TYPES", "EventRecorder", "describe_exception", "events"]
