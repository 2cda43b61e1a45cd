"""The smallest inputs the fuzz tests found failing, kept as plain tests (each failed before its fix)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
import torch

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from trainer_core.loading import read_data
from trainer_core.loading.config import load_config
from trainer_core.loading.errors import ConfigError, DataError
from trainer_core.trainer.checkpoint_io import CheckpointError, load_checkpoint_file

pytestmark = pytest.mark.fuzz


def test_an_optimizer_lr_of_none_is_refused_before_the_first_step(tmp_path: Path) -> None:
    # Found by test_wrong_types_anywhere_give_a_clear_error_on_resume: TypeError deep inside SGD.step.
    flags = {"default_root_dir": str(tmp_path), "limit_train_batches": 2, "limit_val_batches": 0, "logger": False,
             "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False}
    trainer = pl.Trainer(max_epochs=1, **flags)
    trainer.fit(BoringModel())
    buffer = io.BytesIO()
    trainer.save_checkpoint(str(tmp_path / "good.ckpt"))
    checkpoint = torch.load(tmp_path / "good.ckpt", weights_only=True)
    checkpoint["optimizer_states"][0]["param_groups"][0]["lr"] = None
    torch.save(checkpoint, buffer)
    path = tmp_path / "lr-none.ckpt"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match=r"optimizer 0 group 0 'lr' is None") as info:
        pl.Trainer(max_epochs=2, **flags).fit(BoringModel(), ckpt_path=str(path))
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", [".", "0x_", "0b_", "+."])
def test_digitless_numbers_in_yaml_stay_text(tmp_path: Path, text: str) -> None:
    # Found by test_random_bytes_load_or_name_the_file: ValueError from float('.') in the YAML number constructor.
    path = tmp_path / "run.yaml"
    path.write_text(f"trainer: {{default_root_dir: {text}}}\n", encoding="utf-8")
    assert load_config(path)["trainer"]["default_root_dir"] == text


def test_deeply_nested_yaml_is_refused_at_once(tmp_path: Path) -> None:
    # Found by test_nasty_yaml_is_refused_quickly_and_runs_nothing: 12 s in PyYAML's scanner, then RecursionError.
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("blob", [b"q", b"q\x00"])
def test_a_one_byte_pt_file_is_a_data_error(tmp_path: Path, blob: bytes) -> None:
    # Found by test_random_bytes_in_any_format: IndexError from torch's unpickler.
    path = tmp_path / "data.pt"
    path.write_bytes(blob)
    with pytest.raises(DataError, match="not a readable torch file"):
        read_data(path)


def test_an_infinite_csv_target_names_its_line(tmp_path: Path) -> None:
    # Found by test_csv_rows_of_any_shape_and_encoding: 'inf' passed the integer check and became int64's minimum.
    path = tmp_path / "data.csv"
    path.write_text("a,y\n1,0\n2,inf\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3: the target column 'y' holds 'inf'"):
        read_data(path)


def test_huge_integer_targets_stay_values(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,y\n1,0\n2,100000000000000000000000000000000\n", encoding="utf-8")
    data = read_data(path)
    assert data.y is not None and data.y.dtype == torch.float32 and data.y[1].item() == pytest.approx(1e32)


def test_a_nan_feature_names_its_cell(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n1,2,0\n3,nan,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3, column 'b': 'nan', which is not a finite number"):
        read_data(path)


def test_a_max_epochs_dict_in_an_event_reaches_no_view(qtbot) -> None:  # type: ignore[no-untyped-def]
    # Found by test_the_window_never_crashes_on_malformed_or_out_of_order_messages: the status strip compared a
    # dict with 0 ('>' not supported between 'dict' and 'int') on every redraw.
    from studio.app import create_window
    from studio.protocol.stream import well_formed

    window = create_window(None)
    qtbot.addWidget(window)
    try:
        events, dropped = well_formed([{"type": "stage_started", "stage": "train", "max_epochs": {}}])
        assert dropped == 0 and "max_epochs" not in events[0]
        window.session._on_events(events)
        window.session.tick.emit()
        assert window.session.model.progress.max_epochs is None
    finally:
        window.session.shutdown()


def test_a_nul_byte_in_a_path_flag_is_a_misconfiguration(tmp_path: Path) -> None:
    # Found by test_cli_flag_text_parses_or_exits_with_the_project_error: ValueError 'embedded null byte'.
    from trainer_core.exceptions import MisconfigurationError

    with pytest.raises(MisconfigurationError, match="weights_save_path"):
        pl.Trainer(default_root_dir=str(tmp_path), weights_save_path="a\x00b")


def test_a_next_line_character_in_an_hparam_name_round_trips(tmp_path: Path) -> None:
    # Found by test_hparams_yaml_round_trips_or_refuses_with_the_file_name: U+0085 came back as a space.
    from trainer_core.loggers.hparams_io import load_hparams_from_yaml, save_hparams_to_yaml

    path = tmp_path / "hparams.yaml"
    save_hparams_to_yaml(str(path), {"\x85": None, "lr": 0.1, "name": "ünï"})
    assert load_hparams_from_yaml(str(path)) == {"\x85": None, "lr": 0.1, "name": "ünï"}


def test_a_pt_dict_of_ragged_tensors_is_a_data_error(tmp_path: Path) -> None:
    # Found by the long profile of test_pt_with_any_structure: ValueError from numpy (inhomogeneous shape).
    path = tmp_path / "data.pt"
    torch.save({"x": [torch.tensor(0.0), torch.tensor([])]}, path)
    with pytest.raises(DataError, match="not a rectangular array"):
        read_data(path)


def test_a_feature_past_the_float32_range_names_its_cell(tmp_path: Path) -> None:
    # Found by test_csv_rows_of_any_shape_and_encoding (numpy's overflow warning): 1e39 became inf.
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n1,2,0\n3,1e39,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3, column 'b': 1e39 is beyond the float32 range"):
        read_data(path)


@pytest.mark.parametrize("key", ["optimizer_states", "lr_schedulers", "callbacks"])
def test_a_training_state_entry_of_none_is_refused(tmp_path: Path, key: str) -> None:
    # Found by the long profile of test_wrong_types_anywhere_give_a_clear_error_on_resume: len(None) on resume.
    flags = {"default_root_dir": str(tmp_path), "limit_train_batches": 2, "limit_val_batches": 0, "logger": False,
             "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False}
    trainer = pl.Trainer(max_epochs=1, **flags)
    trainer.fit(BoringModel())
    path = tmp_path / "none.ckpt"
    trainer.save_checkpoint(str(path))
    checkpoint = torch.load(path, weights_only=True)
    checkpoint[key] = None
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match=key):
        pl.Trainer(max_epochs=2, **flags).fit(BoringModel(), ckpt_path=str(path))


def test_a_tensor_in_an_optimizer_switch_is_refused(tmp_path: Path) -> None:
    # Found by the long profile of test_wrong_types_anywhere_give_a_clear_error_on_resume: SGD's 'foreach' set to
    # an empty tensor failed at the first step ("Boolean value of Tensor with no values is ambiguous").
    flags = {"default_root_dir": str(tmp_path), "limit_train_batches": 2, "limit_val_batches": 0, "logger": False,
             "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False}
    trainer = pl.Trainer(max_epochs=1, **flags)
    trainer.fit(BoringModel())
    path = tmp_path / "foreach.ckpt"
    trainer.save_checkpoint(str(path))
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["optimizer_states"][0]["param_groups"][0]["foreach"] = torch.zeros(0)
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="'foreach'"):
        pl.Trainer(max_epochs=2, **flags).fit(BoringModel(), ckpt_path=str(path))


def test_an_rng_state_without_its_current_part_is_refused(tmp_path: Path) -> None:
    # Found by the long profile of test_wrong_types_anywhere_give_a_clear_error_on_resume: "'NoneType' is not
    # iterable" when the fit loop restored loops.rng.current = None.
    flags = {"default_root_dir": str(tmp_path), "limit_train_batches": 2, "limit_val_batches": 0, "logger": False,
             "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False}
    trainer = pl.Trainer(max_epochs=1, **flags)
    trainer.fit(BoringModel())
    path = tmp_path / "rng.ckpt"
    trainer.save_checkpoint(str(path))
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["loops"]["rng"]["current"] = None
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="random number generator"):
        pl.Trainer(max_epochs=2, **flags).fit(BoringModel(), ckpt_path=str(path))


def test_an_optimizer_parameter_id_that_is_a_list_is_refused(tmp_path: Path) -> None:
    # Found by the long profile of test_wrong_types_anywhere_give_a_clear_error_on_resume: "unhashable type: 'list'"
    # from Optimizer.load_state_dict.
    path = tmp_path / "ids.ckpt"
    trainer = pl.Trainer(default_root_dir=str(tmp_path), max_epochs=1, limit_train_batches=2, limit_val_batches=0,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(BoringModel())
    trainer.save_checkpoint(str(path))
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["optimizer_states"][0]["param_groups"][0]["params"][0] = []
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="optimizer state 0"):
        load_checkpoint_file(path)


@pytest.mark.parametrize("flags", [{"gpus": "361958731"}, {"gpus": 10**12}, {"accelerator": "gpu", "devices": 10**12}])
def test_a_huge_gpu_count_is_refused_without_listing_every_index(tmp_path: Path, flags: dict[str, object]) -> None:
    # Found by the long profile of test_form_field_text_is_a_value_the_engine_takes_or_a_flag_error: gpus "361958731"
    # built a list of 361,958,731 indices before comparing it with the GPUs present (the process was killed for
    # memory); 10**12 raised MemoryError.
    from trainer_core.exceptions import MisconfigurationError

    started = time.monotonic()
    with pytest.raises(MisconfigurationError, match=r"You requested GPUs \[0, 1, \.\.\., \d+\]") as info:
        pl.Trainer(default_root_dir=str(tmp_path), **flags)
    assert len(str(info.value)) < 400
    assert time.monotonic() - started < 2


def test_a_long_run_of_digits_in_a_config_is_read_at_once(tmp_path: Path) -> None:
    # Found by the long profile of test_cli_flag_text_parses_or_exits_with_the_project_error ("9" * 5000 took 0.8 s):
    # the check for 1e-3-style numbers backtracked quadratically; 20,000 digits took 10 s.
    path = tmp_path / "run.yaml"
    path.write_text(f"trainer: {{default_root_dir: '{'9' * 20000}'}}\n", encoding="utf-8")
    started = time.monotonic()
    assert load_config(path)["trainer"]["default_root_dir"] == "9" * 20000
    assert time.monotonic() - started < 2


def test_an_hparam_name_that_yaml_1_2_reads_as_a_number_round_trips(tmp_path: Path) -> None:
    # Found by the long profile of test_hparams_yaml_round_trips_or_refuses_with_the_file_name: the name "0E0" was
    # written bare (a string in YAML 1.1) and read back by the project's YAML 1.2 number rules as the float 0.0.
    from trainer_core.loggers.hparams_io import load_hparams_from_yaml, save_hparams_to_yaml

    path = tmp_path / "hparams.yaml"
    params = {"0E0": None, "1e5": "2E-3", "lr": 1e-05}
    save_hparams_to_yaml(str(path), params)
    assert load_hparams_from_yaml(str(path)) == params


@pytest.mark.parametrize("key", ["ckpt_path", "model", "data"])
def test_a_path_too_long_for_the_system_is_not_an_os_error(tmp_path: Path, key: str) -> None:
    # Found by the long profile of test_wrong_shapes_and_types_exit_2_naming_the_problem: a ckpt_path mapping became
    # its text, a name longer than 255 bytes, and looking for it beside the config raised "OSError: File name too
    # long" from load_config.
    path = tmp_path / "run.yaml"
    name = "n" * 300 + (".py" if key == "model" else ".csv" if key == "data" else ".ckpt")
    path.write_text(f"{key}: {name}\n", encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as err:
        assert str(path) in str(err)
