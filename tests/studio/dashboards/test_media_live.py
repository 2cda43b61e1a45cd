"""End to end: a studio Fit of the autoencoder example with its recommended media settings; the Images and
Distributions tabs follow the child process live (one real run, a few seconds of training)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


def test_images_and_histograms_stream_from_a_studio_run(qtbot, session, tmp_path):
    from studio.models.config import RunConfig
    from studio.qt.dashboards.distributions_view import DistributionsView
    from studio.qt.dashboards.images_view import ImagesView

    config = RunConfig.load(EXAMPLES / "autoencoder.yaml")
    config.trainer_flags.update({"max_epochs": 2, "limit_train_batches": 4, "limit_val_batches": 1,
                                 "log_every_n_steps": 2, "track_grad_norm": -1})
    images, distributions = ImagesView(session), DistributionsView(session)
    for view in (images, distributions):
        qtbot.addWidget(view)
        view.show()
    session.launch(config, "fit", tmp_path / "runs")
    with qtbot.waitSignal(session.run_ended, timeout=200_000) as ended:
        pass
    assert ended.args[0] == "finished", session.model.reason
    qtbot.waitUntil(lambda: "reconstructions" in images.panels)
    panel = images.panels["reconstructions"]
    qtbot.waitUntil(lambda: panel.slider.maximum() == 1)  # one picture per validation: epochs 0 and 1
    assert Path(panel.shown_path).is_file() and not panel.image.pixmap().isNull()
    qtbot.waitUntil(lambda: distributions.tags.count() == 4)
    assert distributions.current_tag == "input/encoder" and distributions.steps.tolist() == [0, 2, 4, 6]
