"""The dashboards' data layer (no Qt) on the recorded runs."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from dashboard_helpers import FakeNvml

from studio.models.dashboards import checkpoints, grads, history, report, system, tables, tuning
from studio.models.run_state import RunModel


def test_grad_layout_prefers_step_series_and_finds_every_layer(fit_events):
    model = RunModel()
    model.apply(fit_events)
    layout = grads.grad_layout(model.metrics.names())
    assert layout.norm == "2.0"
    assert layout.total == "grad_2.0_norm_total_step"
    assert list(layout.layers) == ["encoder.0.weight", "encoder.0.bias", "head.weight", "head.bias"]
    assert all(name.endswith("_step") for name in layout.layers.values())


def test_flags_exploded_vanished_and_nonfinite():
    x = np.arange(6.0)
    y = np.array([1.0, 5e3, 1e-9, np.nan, 0.5, np.inf])
    exploded, vanished = grads.flag_steps(x, y, grads.Thresholds(exploded=1e3, vanished=1e-7))
    assert exploded.tolist() == [1, 3, 5]
    assert vanished.tolist() == [2]


def test_clip_value_and_clipped_steps(fit_events):
    config = fit_events[0]["config"]
    clip, algorithm = grads.clip_value(config)
    assert (clip, algorithm) == (5.0, "norm")
    assert grads.clip_value({"trainer": {"gradient_clip_val": 0}}) == (None, "norm")
    x = np.arange(4.0)
    assert grads.clipped_steps(x, np.array([1.0, 6.0, 5.0, 9.0]), 5.0).tolist() == [1.0, 3.0]
    assert len(grads.clipped_steps(x, np.ones(4) * 9, 5.0, "value")) == 0


def test_layer_matrix_keeps_spikes_per_bin():
    x = np.arange(10.0)
    matrix, x0, x1 = grads.layer_matrix([(x, np.ones(10)), (x, np.r_[np.ones(9), 1000.0])], columns=5)
    assert matrix.shape == (2, 5)
    assert matrix[1, -1] == pytest.approx(3.0)
    assert matrix[0, 0] == pytest.approx(0.0)
    assert (x0, x1) == (0.0, 9.0)


def test_lr_curve_suggestion_matches_the_engine_rule(tune_events):
    points = [e for e in tune_events if e["type"] == "lr_find_point"]
    finished = tune_events[-1]
    computed = tuning.lr_curve(points)
    reported = tuning.lr_curve(points, finished)
    assert len(computed.lr) == 59 and np.all(np.diff(computed.lr) > 0)
    # Same algorithm as the engine: the value computed from the stream equals the one the run reported.
    assert computed.suggestion == pytest.approx(finished["result"]["tune"]["lr"])
    assert reported.reported and not computed.reported
    assert reported.stop_reason.startswith("diverged at step 58")
    assert computed.stop_reason.startswith("diverged")


def test_lr_curve_too_short_has_no_suggestion():
    points = [{"step": i, "lr": 10 ** (-5 + i), "loss": 1.0, "smoothed_loss": 1.0} for i in range(5)]
    curve = tuning.lr_curve(points)
    assert curve.suggestion is None and curve.stop_reason == "running"


def test_batch_trials(tune_events):
    trials = tuning.batch_trials([e for e in tune_events if e["type"] == "batch_size_trial"], tune_events[-1])
    assert [row[0] for row in trials.rows] == [2, 4, 8, 16, 32]
    assert trials.result == 32
    no_result = tuning.batch_trials([{"batch_size": 8, "fits": True}, {"batch_size": 16, "fits": False}])
    assert no_result.result == 8


def test_summary_table_full_top_and_totals(fit_events):
    events = [e for e in fit_events if e["type"] == "model_summary"]
    full = tables.summary_table(events, "full")
    top = tables.summary_table(events, "top")
    assert full.headers == ["Name", "Type", "Params", "In sizes", "Out sizes"]
    assert [r[0] for r in full.rows] == ["encoder", "encoder.0", "encoder.1", "head"]
    assert [r[0] for r in top.rows] == ["encoder", "head"]
    assert full.rows[3][3:] == ["[2, 16]", "[2, 1]"]
    totals = tables.summary_totals(events)
    assert totals == {"trainable": 129, "non_trainable": 0, "total": 129, "size_mb": pytest.approx(0.000516),
                      "depth": -1, "has_full": True}
    # The recorder's own top-level event alone still gives a table (without sizes).
    assert tables.summary_table(events[:1]).headers == ["Name", "Type", "Params"]


def test_profiler_tables_sorted_and_exported(fit_events):
    events = [e for e in fit_events if e["type"] == "profiler_report"]
    (table,) = tables.profiler_tables(events)
    assert table.title == "fit" and len(table.rows) == 44
    totals = [row[3] for row in table.rows]
    assert totals == sorted(totals, reverse=True)
    csv_text = tables.to_csv(table)
    assert csv_text.splitlines()[0] == "Action,Mean (s),Calls,Total (s),Percent"
    markdown = tables.to_markdown(table)
    assert markdown.startswith("| Action | Mean (s) |") and markdown.count("\n") == 46


def test_checkpoint_scores_and_best(fit_events):
    rows = checkpoints.checkpoint_rows(fit_events)
    by_name = {os.path.basename(r.path): r for r in rows}
    assert by_name["epoch=0-step=16.ckpt"].score == pytest.approx(20.155208, rel=1e-6)
    assert by_name["epoch=0-step=16.ckpt"].step == 16
    best = [r for r in rows if r.best]
    assert [os.path.basename(r.path) for r in best] == ["epoch=5-step=96.ckpt"]
    named = checkpoints.checkpoint_rows([{"type": "checkpoint_saved", "path": "/x/e=1-val_acc=0.91.ckpt",
                                          "kind": "best"}], {"trainer": {"callbacks": [
                                              {"class_path": "ModelCheckpoint", "init_args": {"monitor": "val_acc",
                                                                                              "mode": "max"}}]}})
    assert named[0].score == pytest.approx(0.91) and named[0].best


def test_history_scan_summaries_and_value_at(runs_root):
    runs = history.scan_runs(runs_root)
    assert {r.name.split("/")[-1] for r in runs} == {"version_0", "version_1"}
    fit = next(r for r in runs if r.mode == "fit")
    assert fit.status == "finished" and fit.monitor == "val_loss"
    assert fit.best == pytest.approx(3.66434, rel=1e-5) and fit.last == pytest.approx(fit.best)
    assert fit.duration_s is not None and fit.duration_s > 0
    tune = next(r for r in runs if r.mode == "tune")
    assert tune.status == "finished"
    model = history.load_run(fit.path)
    x, y = model.metrics.series("val_loss").view()
    assert history.value_at(x, y, 40) == (31.0, pytest.approx(10.9127, rel=1e-4))
    assert history.value_at(x, y, 3) is None


def test_history_status_of_killed_and_cli_runs(tmp_path):
    killed = history.summarize_run(tmp_path, [{"type": "run_started", "mode": "fit", "time": 1.0},
                                              {"type": "progress", "time": 2.0}])
    cli = history.summarize_run(tmp_path, [{"type": "run_started", "mode": "fit", "time": 1.0},
                                           {"type": "stage_finished", "status": "finished", "time": 3.0}])
    assert (killed.status, killed.duration_s) == ("incomplete", 1.0)
    assert cli.status == "finished"


def test_series_csv_and_reports(tmp_path):
    text = report.series_csv({"a": (np.array([0.0, 2.0]), np.array([1.0, 3.0])),
                              "b": (np.array([1.0, 2.0]), np.array([5.0, math.nan]))})
    assert text.splitlines() == ["step,a,b", "0,1,", "1,,5", "2,3,"]
    run = report.RunReport("Run report: demo")
    run.facts = [("Status", "finished")]
    run.config = {"trainer": {"max_epochs": 3}}
    run.metrics = {"val_loss": 0.25}
    run.images = [("Metrics", b"\x89PNG fake")]
    html_path = report.write_report(run, tmp_path / "r.html")
    page = html_path.read_text()
    assert "data:image/png;base64," in page and "max_epochs: 3" in page and "val_loss" in page
    md_path = report.write_report(run, tmp_path / "r.md")
    assert "![Metrics](r_files/plot0_metrics.png)" in md_path.read_text()
    assert (tmp_path / "r_files" / "plot0_metrics.png").read_bytes() == b"\x89PNG fake"


def test_gpu_sampler_with_fake_nvml_marks_unsupported_metrics():
    fake = FakeNvml()
    calls = []
    original = fake.nvmlDeviceGetPowerUsage
    fake.nvmlDeviceGetPowerUsage = lambda h: (calls.append(h), original(h))[1]
    sampler = system.GpuSampler(fake)
    assert sampler.start()
    first = sampler.sample()[0]
    sampler.sample()
    assert (first.name, first.utilization, first.temperature, first.power_w) == ("NVIDIA H100 80GB HBM3", 87.0,
                                                                                  41.0, None)
    assert first.power_limit_w == 700.0 and first.process_memory == {os.getpid(): 1_600_000_000}
    assert len(calls) == 1  # NotSupported is asked once, then remembered
    sampler.close()


def test_gpu_sampler_without_driver_gives_one_reason():
    class LibraryMissing:
        class NVMLError_LibraryNotFound(Exception):  # noqa: N801
            pass

        def nvmlInit(self):  # noqa: N802
            raise self.NVMLError_LibraryNotFound()

    sampler = system.GpuSampler(LibraryMissing())
    assert not sampler.start()
    assert sampler.reason.startswith("No NVIDIA driver found") and sampler.sample() == []


def test_process_sampler_and_allocator_stats():
    sampler = system.ProcessSampler()
    first = sampler.sample(os.getpid())
    assert first is not None and first.rss_bytes > 10_000_000 and first.processes >= 1
    assert sampler.sample(None) is None and sampler.sample(2**22 + 12345) is None
    stats = system.allocator_stats({"gpu0/memory_allocated": 1.0, "memory_reserved": 2.0,
                                    "max_memory_allocated": 3.0, "loss": 0.1})
    assert stats == {"allocated": 1.0, "reserved": 2.0, "peak": 3.0}


def test_layer_bins_incremental_equals_a_fresh_build_and_merges():
    rng = np.random.default_rng(0)
    x = np.arange(0.0, 1000.0, 2.0)  # logged every 2 steps
    y = [rng.random(len(x)) + 0.1 for _ in range(3)]
    bins = grads.LayerBins(columns=64)
    bins.update([(x[:20], row[:20]) for row in y])
    assert bins.width == 2.0  # one bin per logging interval at first
    grown, x0, x1 = bins.update([(x, row) for row in y])
    fresh, _, _ = grads.LayerBins(columns=64).update([(x, row) for row in y])
    assert np.allclose(grown, fresh, equal_nan=True)
    assert grown.shape[1] <= 64 and bins.width > 2.0 and x0 == 0.0 and x1 >= 998.0
    assert not np.isnan(grown).any()  # every bin holds a value
    assert np.nanmax(grown) == pytest.approx(np.log10(max(r.max() for r in y)))


def test_hold_last_fills_gaps_but_not_the_start():
    filled = grads.hold_last(np.array([[np.nan, 1.0, np.nan, 3.0, np.nan]]))
    assert np.array_equal(filled, np.array([[np.nan, 1.0, 1.0, 3.0, 3.0]]), equal_nan=True)


def test_checkpoint_rows_follow_the_callbacks_own_mode_monitor_and_best(tmp_path):
    """A ModelCheckpoint maximising val_acc from configure_callbacks (so not in the run config)."""
    kept, worse, last = (tmp_path / "epoch=2-step=30.ckpt", tmp_path / "epoch=0-step=10.ckpt",
                         tmp_path / "last.ckpt")
    kept.write_bytes(b"x")
    last.write_bytes(b"x")  # worse was deleted by top-k
    stop = tmp_path / "stopped-step=75.ckpt"
    stop.write_bytes(b"x")
    events = [
        {"type": "epoch_finished", "stage": "validate", "step": 10, "metrics": {"val_acc": 0.6, "val_loss": 0.9}},
        {"type": "checkpoint_saved", "path": str(worse), "kind": "checkpoint", "epoch": 0, "step": 10,
         "monitor": "val_acc", "mode": "max", "score": 0.6, "best_path": str(worse)},
        {"type": "checkpoint_saved", "path": str(last), "kind": "last", "epoch": 0, "step": 10,
         "monitor": "val_acc", "mode": "max", "score": 0.6, "best_path": str(worse)},
        {"type": "epoch_finished", "stage": "validate", "step": 30, "metrics": {"val_acc": 0.9, "val_loss": 0.2}},
        {"type": "checkpoint_saved", "path": str(kept), "kind": "checkpoint", "epoch": 2, "step": 30,
         "monitor": "val_acc", "mode": "max", "score": 0.9, "best_path": str(kept)},
        {"type": "checkpoint_saved", "path": str(last), "kind": "last", "epoch": 7, "step": 80,
         "monitor": "val_acc", "mode": "max", "score": 0.7, "best_path": str(kept)},
        {"type": "epoch_finished", "stage": "validate", "step": 70, "metrics": {"val_acc": 0.95, "val_loss": 0.1}},
        {"type": "checkpoint_saved", "path": str(stop), "kind": "stopped", "epoch": 7, "step": 75},
    ]
    rows = {os.path.basename(r.path): r for r in checkpoints.checkpoint_rows(events, config={})}
    assert [name for name, row in rows.items() if row.best] == ["epoch=2-step=30.ckpt"]  # the callback's best
    assert (rows["last.ckpt"].epoch, rows["last.ckpt"].step) == (7, 80)  # the file's newest save
    # The stop checkpoint is scored on the callback's monitor, not on val_loss.
    assert rows["stopped-step=75.ckpt"].monitor == "val_acc" and rows["stopped-step=75.ckpt"].score == 0.95

    without_best = [{k: v for k, v in e.items() if k != "best_path"} for e in events]
    rows = {os.path.basename(r.path): r for r in checkpoints.checkpoint_rows(without_best, config={})}
    # Ranked in the callback's direction (max) among files still on disk: the deleted 0.6 file is never best.
    assert [name for name, row in rows.items() if row.best] == ["stopped-step=75.ckpt"]


def test_the_report_config_block_keeps_only_what_the_run_set():
    from studio.models.dashboards.report import readable_config

    spec = {"mode": "fit", "model_script": "m.py", "model_class": None, "model_init_args": {}, "data": None,
            "trainer_flags": {"max_epochs": 3, "enable_progress_bar": False}, "ckpt_path": None, "tune": {},
            "debug": "fast_dev_run", "seed": 0, "trust_checkpoint": False, "hparams": {"lr": 0.1}}
    assert readable_config(spec) == {"mode": "fit", "model_script": "m.py", "trainer_flags": {"max_epochs": 3},
                                     "seed": 0, "hparams": {"lr": 0.1}}
