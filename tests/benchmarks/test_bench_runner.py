"""The benchmark runner: discovery, error rows, table formatting and the host-sync counter (no real benchmarks)."""

from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from benchmarks import run as runner
from benchmarks._harness import HostSyncCounter, make_row, measure

FAKE_OK = """
def run(quick, gpu):
    return [
        {"name": "fake fast", "ours": 1.05, "baseline": 1.0, "unit": "ms", "ratio": 1.05, "note": "quick=%s" % quick},
        {"name": "fake derived", "ours": 3, "baseline": 2, "unit": "s"},
    ]
"""
FAKE_BROKEN = """
def run(quick, gpu):
    raise ValueError("boom")
"""


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pkg = tmp_path / "fakebench"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bench_alpha.py").write_text(textwrap.dedent(FAKE_OK))
    (pkg / "bench_broken.py").write_text(textwrap.dedent(FAKE_BROKEN))
    (pkg / "helper.py").write_text("raise RuntimeError('never imported: not a bench_ module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "fakebench"
    for name in [m for m in sys.modules if m == "fakebench" or m.startswith("fakebench.")]:
        del sys.modules[name]


def test_discovers_the_project_benchmarks() -> None:
    names = runner.discover()
    for expected in ("bench_parity", "bench_overhead", "bench_tuner", "bench_gpu"):
        assert f"benchmarks.{expected}" in names
    assert all(n.split(".")[-1].startswith("bench_") for n in names)


def test_only_selects_by_short_or_full_name(fake_package: str) -> None:
    assert runner.discover(fake_package, only=["alpha"]) == ["fakebench.bench_alpha"]
    assert runner.discover(fake_package, only=["bench_broken,alpha"]) == [
        "fakebench.bench_alpha",
        "fakebench.bench_broken",
    ]
    with pytest.raises(SystemExit, match="unknown benchmark.*nope.*choose from alpha, broken"):
        runner.discover(fake_package, only=["nope"])


def test_a_failing_module_becomes_an_error_row(fake_package: str) -> None:
    rows = runner.run_modules(runner.discover(fake_package), quick=True, gpu=False, echo=False)
    assert [r["name"] for r in rows] == ["fake fast", "fake derived", "broken"]
    assert rows[0]["note"] == "quick=True"
    assert rows[1]["ratio"] == pytest.approx(1.5)  # computed by the runner when the module left it out
    assert rows[2]["note"].startswith("error: ValueError: boom (bench_broken.py:3)")
    assert math.isnan(rows[2]["ours"])


def test_table_formats_numbers_ratios_and_missing_values() -> None:
    rows = [
        runner.normalize_row({"name": "a", "ours": 1234.5678, "baseline": 0.00012, "unit": "us", "note": "n"}, "x"),
        runner.normalize_row({"name": "longer name", "ours": float("nan"), "baseline": 2, "unit": "s"}, "x"),
        runner.normalize_row({"name": "c", "ours": 1.05, "baseline": 1.0, "ratio": 1.05, "unit": "ms"}, "x"),
    ]
    lines = runner.format_table(rows).splitlines()
    assert lines[0].split() == list(runner.COLUMNS)
    assert lines[2].split()[:4] == ["a", "1.23e+03", "0.00012", "us"]
    assert lines[3].split()[:5] == ["longer", "name", "-", "2", "s"]  # NaN shows as "-" and so does its ratio
    assert "1.050x" in lines[4]
    assert len({len(line) for line in lines[:2]}) == 1  # header and rule have the same width


def test_markdown_table_escapes_pipes() -> None:
    row = runner.normalize_row({"name": "x", "ours": 1, "baseline": 2, "unit": "s", "note": "a|b"}, "m")
    text = runner.format_table([row], markdown=True)
    assert text.splitlines()[0] == "| benchmark | ours | baseline | unit | ratio | note |"
    assert text.splitlines()[2] == "| x | 1 | 2 | s | 0.500x | a\\|b |"


def test_main_prints_the_table_and_writes_markdown(
    fake_package: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out_file = tmp_path / "report.md"
    code = runner.main(["--package", fake_package, "--only", "alpha", "--quick", "--markdown", str(out_file)])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "fake fast" in stdout and "1.050x" in stdout
    report = out_file.read_text()
    assert "quick" in report and "- torch:" in report and "| fake derived | 3 | 2 | s | 1.500x |  |" in report


def test_main_lists_modules(fake_package: str, capsys: pytest.CaptureFixture) -> None:
    assert runner.main(["--package", fake_package, "--list"]) == 0
    assert capsys.readouterr().out.split() == ["alpha", "broken"]


def test_host_sync_counter_counts_conversions_and_restores_tensor_methods() -> None:
    original_item = torch.Tensor.item
    before = {name: torch.Tensor.__dict__.get(name) for name in ("item", "__float__", "__bool__", "cpu")}
    t = torch.tensor([1.5])
    with HostSyncCounter() as counter:
        t.item()
        float(t)
        t.tolist()
        _ = t + 1  # not a conversion
    assert counter.counts == {"item": 1, "__float__": 1, "tolist": 1}
    assert any("test_bench_runner.py" in site for site in counter.sites)
    assert torch.Tensor.item is original_item
    assert {name: torch.Tensor.__dict__.get(name) for name in before} == before
    t.item()
    assert counter.total == 3  # nothing counted after exit


def test_measure_discards_warmup_and_takes_the_median() -> None:
    calls: list[int] = []
    result = measure(lambda i: calls.append(i) or i, repeats=3, warmup=2)
    assert calls == [0, 1, 2, 3, 4]
    assert len(result.times) == 3 and result.result == 4
    assert result.median == sorted(result.times)[1]


def test_make_row_ratio_edge_cases() -> None:
    assert make_row("r", 3.0, 2.0, "s")["ratio"] == 1.5
    assert make_row("r", 0.0, 0.0, "syncs/step")["ratio"] == 1.0
    assert math.isnan(make_row("r", float("nan"), 2.0, "s")["ratio"])


def test_smoke_parity_rows_on_a_tiny_lstm(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import _frameworks as fw
    from benchmarks._workloads import lstm_data, lstm_workload
    from benchmarks.bench_parity import compare, rows_for

    if isinstance(fw.ours(), str):
        pytest.skip(fw.ours())
    monkeypatch.setattr(fw, "lightning", lambda: None)  # importing Lightning alone takes seconds
    series = compare(
        lstm_workload(), lstm_data(num_sequences=8, length=5, batch_size=4), epochs=1, repeats=1, device="cpu"
    )
    assert not series["ours"].error
    # Same seed, same data, same model: the trainer's final loss equals the hand-written loop's.
    assert series["ours"].losses == pytest.approx(series["plain"].losses, abs=1.5e-5)
    (row,) = rows_for("parity tiny LSTM", series)
    assert row["unit"] == "s/epoch" and "losses equal to 5 dp 1/1" in row["note"]
    assert "lightning not installed" in row["note"]
