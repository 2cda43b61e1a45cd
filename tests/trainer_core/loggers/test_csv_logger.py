"""CSVLogger: Lightning's version_N layout, metrics.csv header/rows, hparams.yaml, flushing, atomic rewrites."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import torch
import yaml

from trainer_core.loggers import CSVLogger, rank_zero_only


def _read_csv(path: str) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_auto_version_counts_up_from_existing_folders(tmp_path: Path) -> None:
    assert CSVLogger(tmp_path).version == 0  # root missing -> 0
    root = tmp_path / "lightning_logs"
    for name in ("version_0", "version_3", "version_x", "other"):
        (root / name).mkdir(parents=True)
    (root / "version_9").write_text("a file, not a version folder")
    logger = CSVLogger(tmp_path)
    assert logger.version == 4
    assert logger.log_dir == str(root / "version_4")
    assert logger.name == "lightning_logs"
    assert logger.save_dir == str(tmp_path)


def test_manual_int_and_string_versions(tmp_path: Path) -> None:
    assert CSVLogger(tmp_path, name="exp", version=7).log_dir == str(tmp_path / "exp" / "version_7")
    assert CSVLogger(tmp_path, name="exp", version="my_run").log_dir == str(tmp_path / "exp" / "my_run")


@pytest.mark.parametrize("name", ["", None])
def test_empty_name_puts_versions_in_save_dir(tmp_path: Path, name: str | None) -> None:
    (tmp_path / "version_1").mkdir()
    logger = CSVLogger(tmp_path, name=name)
    assert logger.version == 2
    assert logger.log_dir == str(tmp_path / "version_2")
    assert logger.name == ""


def test_version_is_fixed_once_read(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path)
    assert logger.version == 0
    logger.log_metrics({"a": 1.0}, step=0)  # creates version_0
    assert logger.version == 0
    assert CSVLogger(tmp_path).version == 1


def test_header_is_union_in_first_seen_order_with_step(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path)
    logger.log_metrics({"train_loss": 0.5, "epoch": 0}, step=0)
    logger.log_metrics({"train_loss": torch.tensor(0.25), "epoch": 0}, step=1)
    logger.log_metrics({"val_loss": 0.75, "epoch": 0}, step=1)
    logger.finalize("success")
    rows = _read_csv(os.path.join(logger.log_dir, "metrics.csv"))
    assert rows == [
        ["train_loss", "epoch", "step", "val_loss"],
        ["0.5", "0", "0", ""],
        ["0.25", "0", "1", ""],
        ["", "0", "1", "0.75"],
    ]


def test_step_defaults_to_row_index_and_prefix(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path, prefix="train")
    logger.log_metrics({"loss": 1.0})
    logger.log_metrics({"loss": 2.0})
    logger.save()
    rows = _read_csv(os.path.join(logger.log_dir, "metrics.csv"))
    assert rows == [["train-loss", "step"], ["1.0", "0"], ["2.0", "1"]]


def test_flush_every_n_steps(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path, flush_logs_every_n_steps=3)
    path = os.path.join(logger.log_dir, "metrics.csv")
    logger.log_metrics({"x": 0.0}, step=0)
    logger.log_metrics({"x": 1.0}, step=1)
    assert not os.path.exists(path)
    logger.log_metrics({"x": 2.0}, step=2)  # (2 + 1) % 3 == 0
    assert len(_read_csv(path)) == 4
    logger.log_metrics({"x": 3.0}, step=3)
    assert len(_read_csv(path)) == 4
    logger.finalize("success")
    assert len(_read_csv(path)) == 5


def test_bad_flush_value_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="flush_logs_every_n_steps"):
        CSVLogger(tmp_path, flush_logs_every_n_steps=0)


def test_save_leaves_no_temp_files(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path)
    for step in range(5):
        logger.log_metrics({"x": float(step)}, step=step)
        logger.save()
    assert sorted(os.listdir(logger.log_dir)) == ["hparams.yaml", "metrics.csv"]


def test_hparams_yaml_plain_values(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path)
    logger.log_hyperparams({"lr": torch.tensor(0.1), "layers": (64, 32), "act": torch.nn.ReLU,
                            "net": {"depth": 3, "path": tmp_path}})
    path = os.path.join(logger.log_dir, "hparams.yaml")
    assert os.path.isfile(path), "hparams.yaml is written at once, not only at the end"
    logger.log_hyperparams({"batch_size": 8})
    loaded = yaml.safe_load(open(path).read())
    assert loaded == {"lr": 0.1, "layers": [64, 32], "act": "torch.nn.modules.activation.ReLU",
                      "net": {"depth": 3, "path": str(tmp_path)}, "batch_size": 8}


def test_finalize_without_data_writes_empty_hparams(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path)
    logger.finalize("success")
    assert yaml.safe_load(open(os.path.join(logger.log_dir, "hparams.yaml")).read()) in (None, {})
    assert not os.path.exists(os.path.join(logger.log_dir, "metrics.csv"))


def test_existing_metrics_file_warns(tmp_path: Path) -> None:
    first = CSVLogger(tmp_path, version=0)
    first.log_metrics({"x": 1.0}, step=0)
    first.save()
    with pytest.warns(UserWarning, match="overwritten"):
        CSVLogger(tmp_path, version=0).log_metrics({"x": 2.0}, step=0)


def test_other_ranks_write_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rank_zero_only, "rank", 1)
    logger = CSVLogger(tmp_path)
    logger.log_hyperparams({"a": 1})
    logger.log_metrics({"x": 1.0}, step=0)
    logger.finalize("success")
    assert not (tmp_path / "lightning_logs").exists()


def test_saved_rows_leave_memory_and_new_columns_rewrite_the_header(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path)
    path = os.path.join(logger.log_dir, "metrics.csv")
    logger.log_metrics({"a": 1.0}, step=0)
    logger.save()
    assert logger.experiment.metrics == []  # bounded memory in long runs
    logger.log_metrics({"a": 2.0}, step=1)
    logger.save()  # same columns: appended
    assert _read_csv(path) == [["a", "step"], ["1.0", "0"], ["2.0", "1"]]
    logger.log_metrics({"b": 3.0, "a": 4.0}, step=2)
    logger.save()  # a new column: the whole file is rewritten with the wider header
    assert _read_csv(path) == [["a", "step", "b"], ["1.0", "0", ""], ["2.0", "1", ""], ["4.0", "2", "3.0"]]
    logger.save()  # nothing pending: unchanged
    assert len(_read_csv(path)) == 4


def test_flush_when_logged_steps_skip_the_multiples(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path, flush_logs_every_n_steps=10)
    path = os.path.join(logger.log_dir, "metrics.csv")
    for step in range(2, 30, 3):  # log_every_n_steps=3: steps 2, 5, 8, 11, ... never reach 9, 19, 29
        logger.log_metrics({"x": float(step)}, step=step)
        if step == 8:
            assert not os.path.exists(path)
        if step == 11:
            assert len(_read_csv(path)) == 1 + 4  # written once 10 steps had passed
    assert len(_read_csv(path)) == 1 + 8  # second write at step 23 (24 - 12 >= 10); 26 and 29 wait for the end
    logger.finalize("success")
    assert len(_read_csv(path)) == 1 + 10
