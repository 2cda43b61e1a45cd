"""After Tune, Validate and Predict a user finds what the run made and what it used: the predictions file, the
weights evaluated, where an applied batch size went, and which line of a report picture is which."""

from __future__ import annotations

from pathlib import Path

FIT_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "dashboard_fit"


def _predict_events(tmp_path: Path) -> list[dict]:
    """The events of a finished Predict run of a fit's checkpoint (as the training process writes them)."""
    log_dir = tmp_path / "lightning_logs" / "version_3"
    log_dir.mkdir(parents=True)
    checkpoint = str(tmp_path / "lightning_logs" / "version_1" / "checkpoints" / "epoch=4-val_acc=0.942.ckpt")
    predictions = str(log_dir / "predictions.pt")
    Path(predictions).write_bytes(b"x")
    result = {"mode": "predict", "log_dir": str(log_dir), "metrics": {}, "results": None, "best_checkpoint": None,
              "last_checkpoint": None, "predictions_path": predictions}
    base = {"run_id": "pred", "time": 1.0}
    return [
        {**base, "type": "run_started", "seq": 0, "mode": "predict", "log_dir": str(log_dir), "pid": 1,
         "config": {"mode": "predict", "ckpt_path": checkpoint, "hparams": {}}},
        {**base, "type": "stage_started", "seq": 1, "stage": "predict", "max_epochs": 40, "max_steps": -1,
         "num_batches": None},
        {**base, "type": "stage_finished", "seq": 2, "stage": "predict", "status": "finished", "metrics": {}},
        {**base, "type": "run_finished", "seq": 3, "status": "finished", "reason": "", "metrics": {},
         "result": result, "duration_s": 2.2},
    ]


def test_a_predict_run_says_where_its_predictions_are(make_window, qtbot, tmp_path):
    window = make_window()
    window.ensure_views()
    window.show()
    events = _predict_events(tmp_path)
    window.session._on_events(events)
    window.views.setCurrentWidget(window.metrics_view)
    window.status_view.refresh()
    window.metrics_view.refresh(force=True)
    predictions = events[-1]["result"]["predictions_path"]
    # The status strip links the file (it was named nowhere: Predict logs no metrics).
    assert window.status_view.predictions.isVisibleTo(window)
    assert window.status_view.predictions.full_text() == predictions
    # The empty metric grid says where the results went, not "Press Fit to train".
    hint = window.metrics_view.hint.text()
    assert predictions in hint and "Press Fit" not in hint
    assert window.status_view.weights.full_text().endswith("epoch=4-val_acc=0.942.ckpt")
    assert window.status_view.metrics.full_text() == "no metrics logged"  # not "yet": the run has ended
    assert "epoch" not in window.status_view.where.text()  # "epoch 1 of 40": an evaluation trains no epochs


def test_a_finished_tune_points_to_the_finder_views():
    from studio.models.run_state import RunModel
    from studio.qt.metrics_view import empty_hint

    model = RunModel()
    model.apply([{"type": "run_started", "run_id": "t", "seq": 0, "time": 1.0, "mode": "tune", "config": {}},
                 {"type": "run_finished", "run_id": "t", "seq": 1, "time": 2.0, "status": "finished",
                  "reason": "", "metrics": {}, "result": {"mode": "tune"}}])
    hint = empty_hint(model)
    assert "LR finder" in hint and "Press Fit" not in hint


def test_the_report_names_the_weights_evaluated_and_the_predictions(make_window, tmp_path):
    from studio.qt.dashboards.report_action import build_report

    window = make_window()
    window.session._on_events(_predict_events(tmp_path))
    md = build_report(window.session, None, tmp_path / "report.md").read_text()
    assert "**Weights evaluated**: " in md and "epoch=4-val_acc=0.942.ckpt" in md
    assert "**Predictions**: " in md and "predictions.pt (load with torch.load)" in md


def test_a_fit_report_names_its_checkpoints_and_each_line_of_a_chart(make_window, tmp_path):
    from studio.qt.dashboards.report_action import build_report

    window = make_window()
    window.ensure_views()
    window.show()
    window.session.open_run(FIT_RUN)
    html = build_report(window.session, window, tmp_path / "report.html").read_text()
    result = window.session.model.result
    assert result.get("best_checkpoint") and f"<b>Best checkpoint</b>: {result['best_checkpoint']}" in html
    # The loss chart's picture has two lines and no key: the caption says which colour is which.
    assert "loss: train_loss, val_loss" in html and "bold lines are smoothed (EMA 0.6)" in html


def test_report_caption_names_the_full_metric_names():
    from studio.qt.metrics_view import report_caption

    assert report_caption("loss", ["loss"]) == "loss"
    caption = report_caption("net.0.weight", ["grad_2.0_norm/net.0.weight_step"])
    assert caption == "net.0.weight: grad_2.0_norm/net.0.weight_step"


def test_report_picture_file_names_stay_short(tmp_path):
    from studio.models.dashboards.report import RunReport, write_report

    report = RunReport("r")
    report.images = [("Metrics: " + "grad_2.0_norm/encoder.block.0.layer.attention.weight_step, " * 8, b"png")]
    write_report(report, tmp_path / "report.md")  # a 500-character caption: "File name too long" before
    (name,) = [p.name for p in (tmp_path / "report_files").iterdir()]
    assert len(name) <= 80


def test_an_applied_batch_size_names_only_what_the_next_fit_reads(make_window):
    window = make_window()  # the bundled example: its own dataloaders, a batch_size model argument
    window.ensure_views()
    window.forms.setCurrentIndex(0)
    message = window.apply_batch_size(64)
    assert "data file" not in message and "model argument batch_size to 64" in message
    assert window.model_form.values()[0]["batch_size"] == 64
    assert window.forms.currentIndex() == 1  # the Model tab, where the value went
    window.project.data_file.setChecked(True)
    assert "the data file's batch size" in window.apply_batch_size(16)
    assert window.forms.currentIndex() == 0 and window.project.batch_size.value() == 16


def test_a_batch_size_nothing_reads_is_not_reported_as_applied(qtbot):
    from studio.qt.applied_values import apply_batch_size
    from studio.qt.model_form import ArgsForm
    from studio.qt.project_panel import ProjectPanel

    project, form = ProjectPanel(), ArgsForm()
    qtbot.addWidget(project)
    qtbot.addWidget(form)
    project.data_own.setChecked(True)
    taken, message = apply_batch_size(project, form, 64)
    assert taken == "" and "was not applied" in message and "batch_size argument" in message


def test_predict_without_predict_data_is_refused_before_a_process_starts(make_window):
    examples = Path(__file__).resolve().parents[3] / "resources" / "examples"
    window = make_window(str(examples / "gan.py"))  # defines no predict_dataloader
    assert not window.launch("predict")
    assert not window.session.running
    assert "defines no predict_dataloader" in window.problems.text() and "data file" in window.problems.text()



def test_applying_a_value_from_another_scripts_tune_run_says_so(make_window):
    window = make_window()  # the bundled example's forms
    window.ensure_views()
    base = {"run_id": "t", "time": 1.0}
    window.session._on_events([
        {**base, "type": "run_started", "seq": 0, "mode": "tune",
         "config": {"mode": "tune", "model_script": "/somewhere/cnn_images.py"}},
        {**base, "type": "run_finished", "seq": 1, "status": "finished", "reason": "", "metrics": {},
         "result": {"mode": "tune", "tune": {"lr": 0.01, "batch_size": None}}},
    ])
    window.apply_lr(0.01)
    message = window.statusBar().currentMessage()
    assert "the finder ran on cnn_images.py, but the forms hold mlp_classifier.py" in message
    assert "cnn_images.py" in window.dashboard_views["LR finder"].info.text()


def test_report_pictures_of_metric_charts_carry_their_title_and_key(make_window):
    import pyqtgraph as pg

    window = make_window()
    window.ensure_views()
    window.show()
    window.session.open_run(FIT_RUN)
    seen = []

    def render(plot):
        keys = [i for i in plot.getViewBox().childItems() if isinstance(i, pg.LegendItem)]
        seen.append((plot.titleLabel.text, [label.text for key in keys for _, label in key.items]))
        return b"png"

    images = window.metrics_view.report_images(render)
    assert images and all(png == b"png" for _, png in images)
    titles = {title: names for title, names in seen}
    assert titles["loss"] == ["train_loss", "val_loss"]  # the report's loss picture names its two lines
    assert not [i for i in window.metrics_view.chart_for("train_loss").plot.getViewBox().childItems()
                if isinstance(i, pg.LegendItem)]  # the screen keeps its header keys only
