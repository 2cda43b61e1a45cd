"""Widgets of the studio. Each view takes the RunSession (or the model it shows) in its constructor."""
