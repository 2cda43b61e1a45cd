import pytest
import yaml

from studio.models.config import ConfigFileError, RunConfig


def test_yaml_round_trip_in_the_cli_shape(tmp_path):
    config = RunConfig(model_script=str(tmp_path / "m.py"), model_class="M", model_init_args={"lr": 0.1},
                       data={"path": str(tmp_path / "d.csv"), "batch_size": 8, "val_split": 0.1, "shuffle": False},
                       trainer_flags={"max_epochs": 3, "precision": "bf16"}, ckpt_path=str(tmp_path / "x.ckpt"),
                       seed=7)
    path = tmp_path / "run.yaml"
    config.save(path)
    raw = yaml.safe_load(path.read_text())
    assert set(raw) == {"trainer", "model", "data", "ckpt_path", "seed_everything"}
    assert raw["model"] == {"script": str(tmp_path / "m.py"), "class": "M", "init_args": {"lr": 0.1}}
    assert RunConfig.load(path) == config


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: {script: m.py}\ndata: {path: data/x.csv}\n")
    config = RunConfig.load(path)
    assert config.model_script == str(tmp_path / "m.py")
    assert config.data == {"path": str(tmp_path / "data" / "x.csv")}


def test_cli_accepts_the_studio_yaml(tmp_path):
    from trainer_core.loading import check_config

    config = RunConfig(model_script="m.py", trainer_flags={"max_epochs": 2}, data={"path": "d.csv", "batch_size": 4})
    checked = check_config(yaml.safe_load(config.to_yaml()), "studio.yaml")
    # The engine reads back exactly what the studio wrote: nothing renamed, nothing dropped.
    assert checked["trainer"] == {"max_epochs": 2}
    assert checked["model"]["script"] == "m.py"
    assert checked["data"]["path"] == "d.csv" and checked["data"]["batch_size"] == 4


@pytest.mark.parametrize(("text", "message"), [
    ("- 1\n- 2\n", "expected a mapping"),
    ("trainer: 3\n", "trainer: section must be a mapping"),
    ("model: {script: a.py}\nextra: 1\n", "unknown section"),
    ("trainer: [\n", "not valid YAML"),
    # Constructor arguments outside init_args would be lost without a word: refused, naming the key.
    ("model: {script: a.py, hidden_size: 16}\n", "unknown key `hidden_size` in the model: section"),
    ("data: {script: d.py, batch_size: 8}\n", "unknown key `batch_size` in the data: section"),
])
def test_bad_files_are_explained(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigFileError, match=message):
        RunConfig.load(path)


def test_spec_has_every_runspec_field():
    import dataclasses

    from trainer_core.runner import RunSpec

    spec = RunConfig(model_script="m.py").to_spec("fit")
    assert set(spec) == {f.name for f in dataclasses.fields(RunSpec)}
