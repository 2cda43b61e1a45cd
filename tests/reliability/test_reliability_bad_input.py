"""Bad input is refused before anything runs, naming the flag/field and what it accepts (fault-matrix rows 2-4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from studio.models.flag_schema import FlagError, FlagSchema

SCHEMA = FlagSchema.load()
_CANDIDATES: tuple[Any, ...] = ("nonsense value!", {"bogus": 1}, 2.5, [object()])


def _invalid(name: str) -> Any:
    """The first candidate value of a kind (or choice) the flag does not accept."""
    spec = SCHEMA.flags[name]
    for value in _CANDIDATES:
        if not spec.accepts(value):
            return value
    raise AssertionError(f"no invalid candidate for {name}")  # pragma: no cover - a new kind of flag


@pytest.mark.parametrize("name", list(SCHEMA.flags))
def test_every_trainer_flag_rejects_a_value_of_the_wrong_kind(name: str) -> None:
    import trainer_core as pl
    from trainer_core.exceptions import MisconfigurationError

    value = _invalid(name)
    with pytest.raises(MisconfigurationError) as error:
        pl.Trainer(**{name: value})
    message = str(error.value)
    assert name in message, message


# Free-text fields (a duration, a device string, a p-norm, an attribute name, a path) are checked for their format in
# the studio as well: a value the engine would refuse when the run starts is a field error that blocks launch.
FREE_TEXT = [n for n, f in SCHEMA.flags.items() if "str" in f.kinds and not f.choices]
BAD_FREE_TEXT = {
    "max_time": "1 hour", "track_grad_norm": "0", "deterministic": "sometimes", "devices": "0;2", "gpus": "auto",
    "auto_lr_find": "learning rate", "default_root_dir": __file__, "weights_save_path": __file__,
    "resume_from_checkpoint": "no/such/last.ckpt",
}
GOOD_FREE_TEXT = {
    "max_time": "00:00:30:00", "track_grad_norm": "inf", "deterministic": "warn", "devices": "0,2", "gpus": "-1",
    "auto_lr_find": "learning_rate", "default_root_dir": "runs", "weights_save_path": "weights",
    "resume_from_checkpoint": __file__,
}


def test_every_free_text_flag_has_a_format_check() -> None:
    assert sorted(BAD_FREE_TEXT) == sorted(FREE_TEXT)  # a new free-text flag needs a rule in flag_formats.py


@pytest.mark.parametrize("name", FREE_TEXT)
def test_every_free_text_field_rejects_a_badly_formatted_value(name: str) -> None:
    text = BAD_FREE_TEXT[name]
    with pytest.raises(FlagError, match=rf"^{name}: .* is not accepted\. {name} takes "):
        SCHEMA.parse(name, text)
    assert SCHEMA.parse(name, GOOD_FREE_TEXT[name]) is not None


@pytest.mark.parametrize("name", [n for n in FREE_TEXT if n not in ("default_root_dir", "weights_save_path",
                                                                    "resume_from_checkpoint")])
def test_the_studio_and_the_engine_agree_on_free_text_values(name: str) -> None:
    """What the form takes the engine takes; what the form refuses the engine refuses (paths: engine takes any)."""
    import ast

    from trainer_core.exceptions import MisconfigurationError
    from trainer_core.flags import validate_flags

    validate_flags({name: SCHEMA.parse(name, GOOD_FREE_TEXT[name])})
    text = BAD_FREE_TEXT[name]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    with pytest.raises(MisconfigurationError, match=name):
        validate_flags({name: value})


@pytest.mark.parametrize("name", [n for n, f in SCHEMA.flags.items() if f.form_editable and n not in FREE_TEXT])
def test_every_form_field_rejects_text_of_the_wrong_kind(name: str) -> None:
    value = _invalid(name)
    text = value if isinstance(value, str) else repr(value)
    if isinstance(value, list):
        text = "[1, 'x'"  # not a Python literal at all
    with pytest.raises(FlagError, match=rf"^{name}: .* is not accepted\. {name} takes "):
        SCHEMA.parse(name, text)


def test_the_window_blocks_launch_for_a_bad_value_in_any_text_field(qtbot) -> None:
    from PySide6.QtWidgets import QLineEdit

    from studio.app import create_window

    window = create_window(None)
    qtbot.addWidget(window)
    checked = []
    try:
        for name, row in window.trainer_form.rows.items():
            if not isinstance(row.widget, QLineEdit) or not row.widget.isEnabled():
                continue
            text = BAD_FREE_TEXT.get(name, "nonsense value!")
            if name not in BAD_FREE_TEXT and SCHEMA.flags[name].accepts(text):
                continue
            row.widget.setText(text)
            assert "d64545" in row.label.styleSheet(), name  # the field itself is marked
            assert window.launch("fit") is False, name
            assert not window.session.running
            assert f"{name}: {text!r} is not accepted" in window.problems.text(), name
            row.widget.setText("")
            assert "d64545" not in row.label.styleSheet(), name
            checked.append(name)
    finally:
        window.session.shutdown()
    assert len(checked) >= 10 and set(FREE_TEXT) <= set(checked), checked


MISSPELLED = [("check_val_interval", "val_check_interval"), ("check_val_every_n_epochs", "check_val_every_n_epoch")]


@pytest.mark.parametrize(("wrong", "right"), MISSPELLED)
def test_misspelled_flag_in_the_constructor_suggests_the_real_name(wrong: str, right: str) -> None:
    import trainer_core as pl
    from trainer_core.exceptions import MisconfigurationError

    with pytest.raises(MisconfigurationError, match=right):
        pl.Trainer(**{wrong: 1})


@pytest.mark.parametrize(("wrong", "right"), MISSPELLED)
def test_misspelled_flag_on_the_command_line_suggests_the_real_name(wrong: str, right: str, faulty: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from trainer_core.cli import main

    assert main(["fit", "--model", faulty, f"--{wrong}", "1"]) == 2
    assert right in capsys.readouterr().err


@pytest.mark.parametrize(("wrong", "right"), MISSPELLED)
def test_misspelled_flag_in_a_yaml_config_suggests_the_real_name(wrong: str, right: str, faulty: str,
                                                               tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from trainer_core.cli import main

    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"trainer": {wrong: 1}, "model": {"script": faulty}}))
    assert main(["fit", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert right in err and wrong in err, err


@pytest.mark.parametrize(("wrong", "right"), MISSPELLED)
def test_misspelled_flag_in_the_studio_is_a_field_problem(wrong: str, right: str) -> None:
    problems = SCHEMA.validate({wrong: 1})
    assert problems and any(right in p for p in problems), problems


def test_the_studio_opens_every_section_the_cli_writes(tmp_path: Path, faulty: str) -> None:
    """``--print_config`` output and a run's config.yaml (seed_everything:, tune:, debug:) load into the forms."""
    from studio.models.config import RunConfig

    config = {"trainer": {"max_epochs": 2}, "model": {"script": faulty, "init_args": {"lr": 0.1}},
              "seed_everything": 7, "tune": {"lr_find": True}, "debug": "overfit_batches"}
    path = tmp_path / "config.yaml"
    path.write_text("# fit run; repeat it with: trainer-core fit --config config.yaml\n" + yaml.safe_dump(config))
    loaded = RunConfig.load(path)
    assert (loaded.seed, loaded.tune, loaded.debug) == (7, {"lr_find": True}, "overfit_batches")
    assert loaded.trainer_flags == {"max_epochs": 2} and loaded.model_init_args == {"lr": 0.1}
