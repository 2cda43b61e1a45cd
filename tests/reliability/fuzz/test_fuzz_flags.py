"""Trainer flags as text, from the command line and from the studio's form fields, for every flag of the schema.

Whatever is typed ends in a value or in the project's error (``CliError``/``MisconfigurationError`` on the command
line, ``FlagError`` in the form); a value the form lets through is taken by the engine or refused with a message
naming the flag; nothing hangs on huge or deeply nested text.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import trainer_core as pl
from studio.models.flag_schema import FlagError, FlagSchema
from tests.reliability.fuzz.fuzzing import fuzz_settings
from trainer_core.cli import parse_args
from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import FLAGS, validate_flags
from trainer_core.loading.objects import instantiate_flag_objects

pytestmark = pytest.mark.fuzz

MODEL = str(Path(__file__).resolve().parents[2] / "helpers" / "boring_model.py") + ":BoringModel"
SCHEMA = FlagSchema.load()
NAMES = sorted(FLAGS)

# Text a person might type, and text nobody would: literals of every kind, near-misses, huge and nested input.
_LITERALS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=12),
    st.lists(st.integers(-3, 9), max_size=4), st.dictionaries(st.sampled_from(["hours", "days", "x", "1"]),
                                                              st.integers(-5, 5), max_size=2),
).map(repr)
_TEXT = st.one_of(
    _LITERALS, st.text(max_size=40),
    st.sampled_from(["auto", "gpu", "cpu", "ddp", "bf16", "16", "64", "0,1", "-1", "inf", "-inf", "nan", "True",
                     "none", "1e9999", "00:01:00:00", "{'hours': -1}", "[0, 0]", "[]", "{}", "1.5", "-0", "1_000",
                     "(" * 300 + ")" * 300, "[" * 300 + "]" * 300, "-" * 5000 + "1", "9" * 5000,
                     "'" + "a" * 10**5 + "'",
                     "__import__('os').system('true')", "lambda: 0", "\x00", "\u202e1"]),
)


def _engine_accepts(name: str, value: Any, root: Path) -> MisconfigurationError | None:
    """Build a Trainer with the one flag; return the project error it raised (any other error fails the test)."""
    try:
        flags = instantiate_flag_objects({name: value})
        validate_flags(flags)
        pl.Trainer(**{"default_root_dir": str(root), **flags})
    except MisconfigurationError as err:
        return err
    return None


@fuzz_settings(scale=2.0)
@given(name=st.sampled_from(NAMES), text=_TEXT)
def test_cli_flag_text_parses_or_exits_with_the_project_error(tmp_path: Path, name: str, text: str) -> None:
    try:
        parsed = parse_args(["fit", "--model", MODEL, f"--{name}", text])
    except MisconfigurationError as err:
        assert "Traceback" not in str(err)
        return
    value = parsed.config["trainer"][name]
    err = _engine_accepts(name, value, tmp_path)
    if err is not None:
        assert name in str(err) or FLAGS[name].setting in str(err), err


@fuzz_settings(scale=2.0)
@given(name=st.sampled_from([n for n in NAMES if SCHEMA.flags[n].form_editable]), text=_TEXT)
def test_form_field_text_is_a_value_the_engine_takes_or_a_flag_error(tmp_path: Path, name: str, text: str) -> None:
    try:
        value = SCHEMA.parse(name, text)
    except FlagError as err:
        assert name in str(err)
        return
    # The form checks kinds and formats; ranges (accumulate_grad_batches >= 1) are the engine's, checked when the run
    # starts: then the studio shows the engine's message, which must name the flag.
    err = _engine_accepts(name, value, tmp_path)
    if err is not None:
        assert name in str(err) or FLAGS[name].setting in str(err), err


@pytest.mark.slow
@settings(fuzz_settings(), max_examples=6)  # each example starts an interpreter that imports torch
@given(name=st.sampled_from(NAMES), text=_TEXT)
def test_cli_flag_text_in_a_real_process_exits_0_or_2_with_one_paragraph(name: str, text: str) -> None:
    """A handful of the in-process examples above through the real command line: the exit status and stderr."""
    assume("\x00" not in text)  # the operating system cannot pass a NUL byte in an argument
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        assume(False)  # a lone surrogate cannot be an argument either
    done = subprocess.run([sys.executable, "-m", "trainer_core", "fit", "--model", MODEL, f"--{name}", text,
                           "--print_config"], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 2), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    if done.returncode == 2:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("trainer-core fit: error:"), done.stderr[-2000:]
