"""Data behind the dashboard views (no Qt, no torch): grad norms, tuners, tables, checkpoints, run history,
system sampling and exports. Each module reads the run model (``studio.models.run_state.RunModel``) or plain event
dicts, so the same code serves a live run and a replayed ``events.jsonl``."""
