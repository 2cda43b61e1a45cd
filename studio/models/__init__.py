"""Plain-Python models of the studio (no Qt, no torch): metric buffers, run state, run configuration."""
