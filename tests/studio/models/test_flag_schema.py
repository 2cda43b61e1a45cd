import subprocess
import sys

import pytest

from studio.models.flag_schema import SCHEMA_PATH, FlagError, FlagSchema


@pytest.fixture(scope="module")
def schema():
    return FlagSchema.load()


def test_schema_file_is_current():
    from studio.worker.schema import REGENERATE, current_schema

    assert SCHEMA_PATH.read_text(encoding="utf-8") == current_schema(), (
        f"studio/flag_schema.json is out of date with trainer_core/flags.py; regenerate it with: {REGENERATE}")


def test_regenerate_command_checks_cleanly():
    done = subprocess.run([sys.executable, "-m", "studio.worker.schema", "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_groups_cover_every_flag(schema):
    assert {"Loop", "Validation", "Optimization", "Precision", "Hardware", "Debugging", "Tuning", "Logging",
            "Callbacks"} <= set(schema.groups)
    assert all(f.group in schema.groups for f in schema.flags.values())


def test_parse_accepts_each_kind(schema):
    assert schema.parse("max_epochs", "5") == 5
    assert schema.parse("max_epochs", "none") is None
    assert schema.parse("max_epochs", "") == schema.flags["max_epochs"].default
    assert schema.parse("limit_train_batches", "0.25") == 0.25
    assert schema.parse("precision", "bf16") == "bf16"
    assert schema.parse("devices", "[0, 1]") == [0, 1]
    assert schema.parse("detect_anomaly", "True") is True


def test_parse_rejects_with_a_message_naming_flag_and_accepted_values(schema):
    with pytest.raises(FlagError, match=r"max_epochs: 'ten' is not accepted\. max_epochs takes an integer"):
        schema.parse("max_epochs", "ten")
    with pytest.raises(FlagError, match="one of"):
        schema.parse("precision", "fp8")


def test_validate_reports_two_spellings_of_one_setting(schema):
    problems = schema.validate({"enable_checkpointing": False, "checkpoint_callback": False, "nope": 1})
    assert any("two spellings" in p for p in problems)
    assert any(p.startswith("nope:") for p in problems)


GOOD_TEXT = {
    "max_time": ["00:12:00:00", "{'hours': 1, 'minutes': 30}"],
    "track_grad_norm": ["2", "0.5", "inf", "-1"],
    "deterministic": ["True", "false", "warn", "None"],
    "devices": ["2", "-1", "[0, 2]", "0,2", "'0,2'", "auto"],
    "gpus": ["1", "-1", "[1]", "0,1", "'3'"],
    "auto_lr_find": ["True", "learning_rate"],
    "default_root_dir": ["runs/experiment 1", "~/runs"],
    "weights_save_path": ["weights"],
}
BAD_TEXT = {
    "max_time": ["1 hour", "12:00:00", "{'hour': 1}", "{'hours': -1}"],
    "track_grad_norm": ["0", "-2", "'two'"],
    "deterministic": ["sometimes", "1"],
    "devices": ["0;2", "-2", "[0, 0]", "[-1]", "gpu"],
    "gpus": ["auto", "first"],
    "auto_lr_find": ["learning rate", "1e-3"],
}


@pytest.mark.parametrize(("name", "text"), [(n, t) for n, texts in GOOD_TEXT.items() for t in texts])
def test_free_text_flags_take_their_formats(schema, name, text):
    value = schema.parse(name, text)
    assert schema.validate({name: value}) == []


@pytest.mark.parametrize(("name", "text"), [(n, t) for n, texts in BAD_TEXT.items() for t in texts])
def test_free_text_flags_refuse_other_text_naming_the_format(schema, name, text):
    with pytest.raises(FlagError, match=rf"^{name}: .* is not accepted\. {name} takes "):
        schema.parse(name, text)


def test_path_flags_refuse_a_file_where_a_folder_goes_and_a_missing_checkpoint(schema, tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(FlagError, match="existing file"):
        schema.parse("default_root_dir", str(a_file))
    with pytest.raises(FlagError, match="no file there"):
        schema.parse("resume_from_checkpoint", str(tmp_path / "missing.ckpt"))
    ckpt = tmp_path / "last.ckpt"
    ckpt.write_bytes(b"")
    assert schema.parse("resume_from_checkpoint", str(ckpt)) == str(ckpt)
    assert schema.parse("default_root_dir", str(tmp_path)) == str(tmp_path)


def test_validate_checks_formats_of_values_from_a_config_file(schema):
    problems = schema.validate({"max_time": "2 days", "devices": [0, 2], "deterministic": "warn"})
    assert problems == ["max_time: '2 days' is not accepted. max_time takes a \"DD:HH:MM:SS\" string or a dict "
                        "such as {'hours': 1}."]


def test_object_flags_match_the_engine() -> None:
    from studio.models.flag_schema import OBJECT_FLAGS
    from trainer_core.loading import objects

    assert OBJECT_FLAGS == objects._OBJECT_FLAGS


def test_validate_takes_class_paths_for_object_flags_only(schema):
    csv = {"class_path": "CSVLogger", "init_args": {"save_dir": "logs"}}
    assert schema.validate({"logger": csv, "profiler": {"class_path": "SimpleProfiler"},
                            "plugins": [{"class_path": "my.Plugin"}]}) == []
    assert schema.validate({"max_epochs": csv}) != []
    assert schema.validate({"logger": {"save_dir": "logs"}}) != []  # a mapping without class_path is no object


@pytest.mark.parametrize(("name", "text"), [
    ("accumulate_grad_batches", "0"), ("accumulate_grad_batches", "{0: 0}"), ("limit_train_batches", "-1"),
    ("limit_val_batches", "-0.5"), ("limit_test_batches", "1.5"), ("val_check_interval", "1.5"),
    ("val_check_interval", "0"), ("max_epochs", "-2"), ("max_steps", "-5"), ("num_sanity_val_steps", "-2"),
    ("log_every_n_steps", "0"), ("check_val_every_n_epoch", "0"),
])
def test_the_form_rejects_what_the_engine_rejects(name, text):
    import ast

    from trainer_core.exceptions import MisconfigurationError
    from trainer_core.flags import FLAGS

    schema = FlagSchema.load()
    with pytest.raises(FlagError, match=f"{name}: {text!r} is not accepted"):
        schema.parse(name, text)
    with pytest.raises(MisconfigurationError):  # the engine agrees: this run would fail at start
        FLAGS[name].validate(name, ast.literal_eval(text))


@pytest.mark.parametrize(("name", "text"), [
    ("accumulate_grad_batches", "4"), ("accumulate_grad_batches", "{0: 8, 4: 1}"), ("limit_train_batches", "0.25"),
    ("limit_train_batches", "10"), ("limit_val_batches", "0"), ("val_check_interval", "0.5"),
    ("val_check_interval", "100"), ("max_epochs", "-1"), ("num_sanity_val_steps", "-1"),
])
def test_the_form_accepts_what_the_engine_accepts(name, text):
    assert FlagSchema.load().parse(name, text) is not None
