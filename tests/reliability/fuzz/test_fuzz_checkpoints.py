"""Checkpoint files as a user might hand them over: random bytes, cut-off and bit-flipped saves, rebuilt archives,
pickles that would run code, and well-formed files that do not fit the model.

Every one ends in ``CheckpointError`` (a ``MisconfigurationError``) naming the file, never in torch's internal
errors; nothing from the file runs; the file itself is left as it was.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from tests.reliability.fuzz.fuzzing import fuzz_settings, is_long
from trainer_core.exceptions import MisconfigurationError
from trainer_core.trainer.checkpoint_io import CheckpointError, load_checkpoint_file

pytestmark = pytest.mark.fuzz

CORRUPT_TEXT = b"this is not a checkpoint\n" * 40


def _trainer(root: Path, **flags: Any) -> pl.Trainer:
    settings: dict[str, Any] = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 0,
                                "enable_progress_bar": False, "enable_model_summary": False, "logger": False,
                                "enable_checkpointing": False, "num_sanity_val_steps": 0}
    return pl.Trainer(default_root_dir=str(root), **{**settings, **flags})


class Saved(bytes):
    """A checkpoint's bytes, with a short repr for Hypothesis's failure reports."""

    def __repr__(self) -> str:
        return f"<valid checkpoint, {len(self)} bytes>"


@pytest.fixture(scope="module")
def valid_ckpt(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a real checkpoint: a BoringModel after two steps (weights, SGD, StepLR, counters, RNG)."""
    root = tmp_path_factory.mktemp("valid")
    trainer = _trainer(root)
    trainer.fit(BoringModel())
    path = root / "valid.ckpt"
    trainer.save_checkpoint(str(path))
    return Saved(path.read_bytes())


def _expect_refused(path: Path, trust: bool = False) -> CheckpointError:
    before = path.read_bytes()
    with pytest.raises(CheckpointError) as info:
        load_checkpoint_file(path, trust=trust)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before  # reading never changes what was saved
    return info.value


# --- the reported defect, kept as a plain test -------------------------------------------------------------------

def test_a_text_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.ckpt"
    path.write_bytes(CORRUPT_TEXT)
    err = _expect_refused(path)
    assert "corrupt" in str(err) and "IndexError" in str(err)  # the reader's error is kept as a detail only


def test_cli_fit_with_a_text_file_exits_2_with_one_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.ckpt"
    path.write_bytes(CORRUPT_TEXT)
    script = Path(__file__).resolve().parents[2] / "helpers" / "boring_model.py"
    proc = subprocess.run(
        [sys.executable, "-m", "trainer_core", "fit", "--model", f"{script}:BoringModel", "--ckpt_path", str(path),
         "--max_epochs", "1", "--enable_progress_bar", "False", "--logger", "False"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("trainer-core fit: error:")]
    assert len(error_lines) == 1 and str(path) in error_lines[0], proc.stderr


# --- random and damaged bytes ------------------------------------------------------------------------------------

@fuzz_settings()
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.ckpt"
    path.write_bytes(data)
    _expect_refused(path)


@fuzz_settings(scale=0.5)
@given(data=st.binary(min_size=1, max_size=512), trust=st.booleans())
def test_random_bytes_after_a_zip_or_pickle_header_are_refused(tmp_path: Path, data: bytes, trust: bool) -> None:
    path = tmp_path / "random.ckpt"
    for header in (b"PK\x03\x04", b"\x80\x02", b"\x80\x04\x95"):
        path.write_bytes(header + data)
        _expect_refused(path, trust=trust)


def test_every_truncation_of_a_valid_file_is_refused(tmp_path: Path, valid_ckpt: bytes) -> None:
    path = tmp_path / "cut.ckpt"
    size = len(valid_ckpt)
    if is_long():
        offsets = range(size)
    else:  # every offset through the zip's headers at both ends, a stride through the tensor data between
        offsets = sorted({*range(min(size, 600)), *range(max(0, size - 600), size), *range(0, size, 97)})
    for offset in offsets:
        path.write_bytes(valid_ckpt[:offset])
        _expect_refused(path)


@fuzz_settings()
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=7)), min_size=1,
                      max_size=4))
def test_bit_flips_load_cleanly_or_are_refused(tmp_path: Path, valid_ckpt: bytes,
                                               flips: list[tuple[int, int]]) -> None:
    data = bytearray(valid_ckpt)
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    path = tmp_path / "flipped.ckpt"
    path.write_bytes(bytes(data))
    try:
        checkpoint = load_checkpoint_file(path)
    except CheckpointError as err:
        assert str(path) in str(err)
        return
    # A flip inside tensor data or an unread field loads; the model still gets a clear error or its weights.
    try:
        BoringModel.load_from_checkpoint(str(path))
    except CheckpointError as err:
        assert str(path) in str(err)
    assert isinstance(checkpoint["state_dict"], dict)


# --- rebuilt archives --------------------------------------------------------------------------------------------

def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


# Names Python's zipfile can write (no control characters, no lone surrogates).
_MEMBER_NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


def _rezip(path: Path, members: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, payload in members:
            archive.writestr(name, payload)


def test_rezipped_unchanged_members_still_load(tmp_path: Path, valid_ckpt: bytes) -> None:
    path = tmp_path / "same.ckpt"
    _rezip(path, _members(valid_ckpt))  # the baseline the member edits below change one thing of
    assert "state_dict" in load_checkpoint_file(path)


@fuzz_settings(scale=0.5)
@given(data=st.data())
def test_missing_renamed_or_extra_members_are_refused_or_harmless(tmp_path: Path, valid_ckpt: bytes,
                                                                  data: st.DataObject) -> None:
    members = _members(valid_ckpt)
    index = data.draw(st.integers(min_value=0, max_value=len(members) - 1), label="member")
    action = data.draw(st.sampled_from(["drop", "rename", "extra", "empty", "garbage"]), label="action")
    name, payload = members[index]
    if action == "drop":
        del members[index]
    elif action == "rename":
        members[index] = (name + data.draw(_MEMBER_NAMES, label="suffix"), payload)
    elif action == "extra":
        members.append((data.draw(_MEMBER_NAMES, label="extra name"),
                        data.draw(st.binary(max_size=64), label="extra bytes")))
    elif action == "empty":
        members[index] = (name, b"")
    else:
        members[index] = (name, data.draw(st.binary(max_size=256), label="garbage"))
    path = tmp_path / "rebuilt.ckpt"
    _rezip(path, members)
    try:
        checkpoint = load_checkpoint_file(path)
    except CheckpointError as err:
        assert str(path) in str(err)
        return
    assert action in ("extra", "rename", "drop", "garbage", "empty")  # loaded: a member nothing reads
    assert isinstance(checkpoint["state_dict"], dict)


# --- pickles that would run code ---------------------------------------------------------------------------------

class _RunsCode:
    """Unpickling this calls ``Path.touch`` on a marker file: the proof that code from a file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_runs_code_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    for name, save in (("zip.ckpt", lambda p, o: torch.save(o, p)),
                       ("legacy.ckpt", lambda p, o: torch.save(o, p, _use_new_zipfile_serialization=False)),
                       ("raw.ckpt", lambda p, o: p.write_bytes(pickle.dumps(o, protocol=2)))):
        path = tmp_path / name
        save(path, {"state_dict": {}, "payload": _RunsCode(marker)})
        err = _expect_refused(path)
        assert "trust" in str(err)
        assert not marker.exists(), f"{name}: unpickling ran code from the file"
        with pytest.raises(CheckpointError):
            BoringModel.load_from_checkpoint(str(path))
        assert not marker.exists()


# --- files that unpickle but do not fit --------------------------------------------------------------------------

def _edited(valid_ckpt: bytes, tmp_path: Path, edit: Any) -> Path:
    checkpoint = torch.load(io.BytesIO(valid_ckpt), weights_only=True)
    edit(checkpoint)
    path = tmp_path / "edited.ckpt"
    torch.save(checkpoint, path)
    return path


def test_wrong_shapes_name_the_file(tmp_path: Path, valid_ckpt: bytes) -> None:
    path = _edited(valid_ckpt, tmp_path, lambda c: c["state_dict"].update({"layer.weight": torch.zeros(3, 5)}))
    with pytest.raises(CheckpointError, match="does not fit BoringModel") as info:
        BoringModel.load_from_checkpoint(str(path))
    assert str(path) in str(info.value)
    with pytest.raises(MisconfigurationError, match="does not fit") as info:
        _trainer(tmp_path, max_epochs=2).fit(BoringModel(), ckpt_path=str(path))
    assert str(path) in str(info.value)


def test_unknown_hparam_names_name_the_file_and_the_names(tmp_path: Path, valid_ckpt: bytes) -> None:
    path = _edited(valid_ckpt, tmp_path, lambda c: c.update({"hyper_parameters": {"batch_sizf": 1}}))
    with pytest.raises(CheckpointError, match="batch_sizf") as info:
        BoringModel.load_from_checkpoint(str(path))
    assert str(path) in str(info.value)


def test_a_broken_rng_state_is_refused_before_training(tmp_path: Path, valid_ckpt: bytes) -> None:
    def break_rng(checkpoint: dict[str, Any]) -> None:
        checkpoint["loops"]["rng"]["current"]["torch"] = torch.zeros(7, dtype=torch.uint8)

    path = _edited(valid_ckpt, tmp_path, break_rng)
    trainer, model = _trainer(tmp_path, max_epochs=2), BoringModel()
    rng_before = torch.get_rng_state()
    with pytest.raises(CheckpointError, match="random number generator") as info:
        trainer.fit(model, ckpt_path=str(path))
    assert str(path) in str(info.value)
    assert torch.equal(torch.get_rng_state(), rng_before)  # the check tries the state on a private generator


_ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(),
    st.text(max_size=20), st.binary(max_size=20), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.builds(torch.zeros, st.integers(min_value=0, max_value=4)))


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Key paths into the nested dicts/lists of a checkpoint (not into tensors)."""
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(obj, list) and len(obj) < 50:
        for i, value in enumerate(obj):
            out += _paths(value, prefix + (i,))
    return out


@fuzz_settings(scale=0.25)
@given(data=st.data())
def test_wrong_types_anywhere_give_a_clear_error_on_resume(tmp_path: Path, valid_ckpt: bytes,
                                                           data: st.DataObject) -> None:
    checkpoint = torch.load(io.BytesIO(valid_ckpt), weights_only=True)
    key_path = data.draw(st.sampled_from(_paths(checkpoint)), label="key path")
    value = data.draw(_ODD_VALUES, label="value")
    target = checkpoint
    for key in key_path[:-1]:
        target = target[key]
    target[key_path[-1]] = value
    path = tmp_path / "typed.ckpt"
    torch.save(checkpoint, path)
    trainer = _trainer(tmp_path, max_epochs=2)
    try:
        trainer.fit(BoringModel(), ckpt_path=str(path))
    except MisconfigurationError as err:
        assert str(path) in str(err) or "checkpoint" in str(err), err


def test_the_studio_checkpoint_field_with_a_corrupt_file_ends_the_run_naming_the_file(qtbot: Any,
                                                                                      tmp_path: Path) -> None:
    """The Checkpoint field's path reaches the training child, which refuses the file; the studio shows why."""
    from studio.models.config import RunConfig
    from studio.services.session import RunSession

    path = tmp_path / "corrupt.ckpt"
    path.write_bytes(CORRUPT_TEXT)
    tiny = Path(__file__).resolve().parents[2] / "studio" / "scripts" / "tiny_model.py"
    session = RunSession()
    try:
        config = RunConfig(model_script=str(tiny), ckpt_path=str(path), trainer_flags={"max_epochs": 1})
        with qtbot.waitSignal(session.run_ended, timeout=120_000) as ended:
            session.launch(config, "fit", tmp_path / "runs")
        status, reason = ended.args
        console = "\n".join(text for _, text in session.model.console)
        assert status == "failed", (status, reason, console[-2000:])
        assert str(path) in reason + console and "IndexError" not in reason.split("(")[0]
    finally:
        session.shutdown()
    assert path.read_bytes() == CORRUPT_TEXT
