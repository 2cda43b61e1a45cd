"""The --config YAML: shape checks, misspelled flags, shorthands, paths, merging and dumping."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trainer_core.loading import ConfigError, check_config, dump_config, load_config, merge_configs


def test_full_shape_round_trips(tmp_path: Path) -> None:
    config = {
        "trainer": {"max_epochs": 2, "limit_train_batches": 0.5},
        "model": {"script": "m.py", "class": "Net", "init_args": {"hidden": 8}},
        "data": {"path": "d.csv", "batch_size": 4, "val_split": 0.25},
        "seed_everything": 3,
        "tune": {"lr_find": True},
    }
    checked = check_config(config)
    assert checked == config
    assert yaml.safe_load(dump_config(checked)) == config
    assert list(yaml.safe_load(dump_config(checked))) == ["trainer", "model", "data", "seed_everything", "tune"]


@pytest.mark.parametrize("name,real", [("check_val_interval", "val_check_interval"),
                                       ("check_val_every_n_epochs", "check_val_every_n_epoch"),
                                       ("max_epoch", "max_epochs")])
def test_misspelled_flag_suggests_real_name(name: str, real: str) -> None:
    with pytest.raises(ConfigError, match=f"`{name}` is not a Trainer flag. Did you mean `{real}`"):
        check_config({"trainer": {name: 1}}, "run.yaml")


@pytest.mark.parametrize("config,message", [
    ({"trainr": {}}, "unknown key `trainr`. Did you mean `trainer`"),
    ({"model": {"script": "m.py", "init_arg": {}}}, "section model: unknown key `init_arg`. Did you mean `init_args`"),
    ({"data": {"path": "d.csv", "batchsize": 3}}, "unknown key `batchsize`. Did you mean `batch_size`"),
    ({"model": {"class": "Net"}}, "section model needs `script`"),
    ({"model": "weights.ckpt"}, "not a Python script"),
    ({"trainer": [1, 2]}, "must be a mapping"),
    ({"debug": "slow"}, "debug='slow' is not valid"),
    ({"seed_everything": "x"}, "seed_everything='x' is not valid"),
    ([1], "must be a mapping"),
])
def test_bad_shapes(config: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_config(config)


def test_shorthands_and_exponent_numbers() -> None:
    checked = check_config(yaml.safe_load("model: net.py:Net\ndata: d.npz\ntrainer: {gradient_clip_val: 1e-3}\n"))
    assert checked["model"] == {"script": "net.py", "class": "Net", "init_args": {}}
    assert checked["data"] == {"path": "d.npz"}
    assert checked["trainer"]["gradient_clip_val"] == pytest.approx(1e-3)


def test_load_resolves_paths_beside_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "m.py").write_text("")
    (tmp_path / "conf" / "run.yaml").write_text("model: {script: m.py}\ndata: {path: elsewhere.csv}\n")
    monkeypatch.chdir(tmp_path)
    config = load_config("conf/run.yaml")
    assert config["model"]["script"] == str(tmp_path / "conf" / "m.py")
    assert config["data"]["path"] == "elsewhere.csv"  # not beside the file: taken from the current folder


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.yaml")
    (tmp_path / "bad.yaml").write_text("trainer:\n  max_epochs: [1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml, line \d+: not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "typo.yaml").write_text("trainer:\n  check_val_interval: 2\n")
    with pytest.raises(ConfigError, match="typo.yaml, section trainer: `check_val_interval` .* `val_check_interval`"):
        load_config(tmp_path / "typo.yaml")


def test_merge_override_wins_and_new_script_drops_old_args() -> None:
    base = {"trainer": {"max_epochs": 3, "log_every_n_steps": 1},
            "model": {"script": "a.py", "class": "A", "init_args": {"x": 1, "y": 2}}}
    same = merge_configs(base, {"trainer": {"max_epochs": 5}, "model": {"script": "a.py", "init_args": {"y": 9}}})
    assert same["trainer"] == {"max_epochs": 5, "log_every_n_steps": 1}
    assert same["model"] == {"script": "a.py", "class": "A", "init_args": {"x": 1, "y": 9}}
    other = merge_configs(base, {"model": {"script": "b.py", "class": None, "init_args": {}}})
    assert other["model"] == {"script": "b.py", "class": None, "init_args": {}}
    assert base["model"]["init_args"] == {"x": 1, "y": 2}  # inputs untouched


def test_yaml_numbers_follow_yaml_1_2(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text("trainer:\n  max_time: 1:00:00:00\n  gradient_clip_val: 1e-3\n"
                                       "  max_epochs: 3\n  val_check_interval: .5\n")
    trainer = load_config(tmp_path / "run.yaml")["trainer"]
    assert trainer == {"max_time": "1:00:00:00", "gradient_clip_val": 1e-3, "max_epochs": 3, "val_check_interval": 0.5}
