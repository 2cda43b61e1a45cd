"""Qt objects without widgets: the run supervisor (child process + message drain)."""
