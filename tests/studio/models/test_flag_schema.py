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
