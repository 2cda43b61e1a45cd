"""The LR finder warns when its suggestion sits at the top end of a sweep whose loss never turned up."""

from __future__ import annotations

import numpy as np
from dashboard_helpers import feed


def _events(losses: np.ndarray, suggestion: float) -> list[dict]:
    lrs = np.logspace(-8, 0, len(losses))
    base = {"run_id": "lr", "time": 1.0}
    points = [{**base, "type": "lr_find_point", "seq": i, "step": i, "lr": float(lr), "loss": float(loss),
               "smoothed_loss": float(loss)} for i, (lr, loss) in enumerate(zip(lrs, losses, strict=True))]
    finished = {**base, "type": "run_finished", "seq": len(points), "status": "finished", "reason": "",
                "metrics": {}, "result": {"mode": "tune", "tune": {"lr": suggestion, "batch_size": None}}}
    return [*points, finished]


def test_a_suggestion_at_the_end_of_a_still_falling_sweep_is_flagged(qtbot, session):
    from studio.qt.dashboards.tuner_views import LrFinderView

    view = LrFinderView(session)
    qtbot.addWidget(view)
    view.show()
    losses = 1.3 - 0.2 * np.linspace(0, 1, 100) ** 4  # falls faster and faster up to lr = 1: never turns up
    feed(session, _events(losses, 0.832))
    view.refresh(force=True)
    assert "Suggested lr: 0.832" in view.info.text() and "Caution: 0.832 lies in the last tenth" in view.info.text()


def test_a_suggestion_before_the_divergence_is_not_flagged(qtbot, session):
    from studio.qt.dashboards.tuner_views import LrFinderView

    view = LrFinderView(session)
    qtbot.addWidget(view)
    view.show()
    x = np.linspace(0, 1, 60)
    losses = np.where(x < 0.8, 1.1 - 0.5 * x, 0.7 + 40 * (x - 0.8) ** 2 * 10)  # dips, then diverges
    feed(session, _events(losses, 0.0464))
    view.refresh(force=True)
    assert "Suggested lr: 0.0464" in view.info.text() and "Caution" not in view.info.text()
