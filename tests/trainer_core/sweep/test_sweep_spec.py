"""The sweep file is checked before any trial starts; every error names the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer_core.sweep import SweepError, apply_params, load_sweep, parse_sweep

GOOD = {"metric": "val_loss", "direction": "minimize", "sampler": "tpe", "pruner": "median",
        "parameters": {"model.lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
                       "model.hidden": {"type": "int", "low": 16, "high": 256, "step": 16},
                       "trainer.accumulate_grad_batches": {"type": "categorical", "choices": [1, 2, 4]}}}


def test_a_good_sweep_file_reads_back_the_same(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(GOOD, sort_keys=False))
    spec = load_sweep(path)
    assert [p.name for p in spec.parameters] == list(GOOD["parameters"])
    assert spec.pruner == {"type": "median"} and spec.sampler == "tpe"
    assert parse_sweep(spec.to_dict()) == spec


@pytest.mark.parametrize(("params", "message"), [
    ({"trainer.max_epoch": {"type": "int", "low": 1, "high": 3}}, r"trainer.max_epoch.*not a Trainer flag.*max_epochs"),
    ({"lr": {"type": "float", "low": 0.1, "high": 1.0}}, r"parameter lr: give a dotted key"),
    ({"model.lr": {"type": "float", "low": 0.1, "high": 0.1}}, r"model.lr: the range is empty"),
    ({"model.lr": {"type": "float", "low": 0.5, "high": 0.1}}, r"model.lr: low \(0.5\) is greater than high"),
    ({"model.act": {"type": "categorical", "choices": ["relu"]}}, r"model.act: `choices` must list at least two"),
    ({"model.lr": {"type": "float", "low": 0.0, "high": 1.0, "log": True}}, r"model.lr: a log range needs low > 0"),
    ({"model.lr": {"type": "floaty", "low": 0.0, "high": 1.0}}, r"model.lr: type 'floaty' is not valid"),
    ({"model.n": {"type": "int", "low": 1.5, "high": 4}}, r"model.n: low of an int parameter must be an integer"),
    ({"model.lr": {"type": "float", "low": 0.1, "hihg": 1.0}}, r"model.lr: `hihg` is not a key.*high"),
])
def test_bad_parameters_are_refused_naming_the_field(params: dict, message: str) -> None:
    with pytest.raises(SweepError, match=message):
        parse_sweep({"parameters": params}, "sweep.yaml")


def test_bad_top_level_keys_are_refused() -> None:
    with pytest.raises(SweepError, match=r"unknown key `metrc`.*metric"):
        parse_sweep({"metrc": "val_loss", "parameters": GOOD["parameters"]})
    with pytest.raises(SweepError, match="direction 'down' is not valid"):
        parse_sweep({"direction": "down", "parameters": GOOD["parameters"]})
    with pytest.raises(SweepError, match="sampler 'bayes' is not valid"):
        parse_sweep({"sampler": "bayes", "parameters": GOOD["parameters"]})
    with pytest.raises(SweepError, match=r"pruner median: unknown option `patience`"):
        parse_sweep({"pruner": {"type": "median", "patience": 3}, "parameters": GOOD["parameters"]})
    with pytest.raises(SweepError, match="`parameters:` must map at least one"):
        parse_sweep({"metric": "val_loss"})


def test_a_grid_needs_a_step_for_float_ranges() -> None:
    with pytest.raises(SweepError, match="model.lr: the grid sampler needs `step`"):
        parse_sweep({"sampler": "grid", "parameters": {"model.lr": {"type": "float", "low": 0.1, "high": 0.3}}})
    spec = parse_sweep({"sampler": "grid", "parameters": {
        "model.lr": {"type": "float", "low": 0.1, "high": 0.3, "step": 0.1},
        "model.hidden": {"type": "int", "low": 8, "high": 32, "step": 8}}})
    assert spec.parameters[0].grid_values() == [0.1, 0.2, 0.3]
    assert spec.parameters[1].grid_values() == [8, 16, 24, 32]


def test_unreadable_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="cannot read the sweep file"):
        load_sweep(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters: [\n")
    with pytest.raises(SweepError, match="not valid YAML"):
        load_sweep(bad)


def test_dotted_keys_land_in_the_run_config() -> None:
    config = {"trainer": {"max_epochs": 3}, "model": {"script": "m.py", "init_args": {"lr": 0.1}},
              "data": {"path": "d.csv", "batch_size": 8}}
    out = apply_params(config, {"model.lr": 0.01, "model.init_args.hidden": 32, "data.batch_size": 64,
                                "trainer.accumulate_grad_batches": 2})
    assert out["model"]["init_args"] == {"lr": 0.01, "hidden": 32}
    assert out["data"]["batch_size"] == 64
    assert out["trainer"] == {"max_epochs": 3, "accumulate_grad_batches": 2}
    assert config["model"]["init_args"] == {"lr": 0.1}, "the base config is not changed"
    with pytest.raises(SweepError, match=r"data.batchsize: `batchsize` is not an option of a data file.*batch_size"):
        apply_params(config, {"data.batchsize": 4})


def test_a_hostile_sweep_file_is_refused_not_expanded(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7))
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)
    with pytest.raises(SweepError, match="expands to more than"):
        load_sweep(path)
