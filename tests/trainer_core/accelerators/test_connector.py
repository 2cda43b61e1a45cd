"""Device selection: the gpus parsing table, 2.x spellings, conflicts and errors (GPU count mocked; no CUDA needed)."""

from __future__ import annotations

from typing import Any

import pytest

from trainer_core import MisconfigurationError, Trainer
from trainer_core.accelerators import connector
from trainer_core.accelerators.connector import choose_devices, parse_gpu_ids
from trainer_core.flags import validate_flags


@pytest.fixture
def gpus(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Pretend the machine has ``n`` GPUs."""

    def set_count(n: int) -> None:
        monkeypatch.setattr(connector, "_cuda_count", lambda: n)

    return set_count


def choose(**flags: Any) -> connector.DeviceChoice:
    return choose_devices(validate_flags(flags))


@pytest.mark.parametrize(("value", "expected"), [
    (None, []), (0, []), ("0", []), ([], []), (2, [0, 1]), (-1, [0, 1, 2, 3]), ("-1", [0, 1, 2, 3]),
    ([1, 3], [1, 3]), ("0,2", [0, 2]), (" 1, 3 ", [1, 3]), ("3", [0, 1, 2]),  # 1.5: "3" means three GPUs
])
def test_gpus_parsing_table(gpus: Any, value: Any, expected: list[int]) -> None:
    gpus(4)
    assert parse_gpu_ids(value) == expected


@pytest.mark.parametrize("value", [5, [0, 4], "1,7", -1])
def test_missing_gpus_name_what_was_asked_and_what_exists(gpus: Any, value: Any) -> None:
    gpus(4 if value != -1 else 0)
    with pytest.raises(MisconfigurationError) as err:
        parse_gpu_ids(value)
    text = str(err.value)
    assert repr(value) in text and "your machine only has" in text
    assert ("4 GPUs: indices [0, 1, 2, 3]" in text) if value != -1 else ("0 GPUs" in text)


@pytest.mark.parametrize("value", [[0, 0], -2, "x,y", "two"])
def test_malformed_gpu_requests(gpus: Any, value: Any) -> None:
    gpus(4)
    with pytest.raises(MisconfigurationError, match="gpus="):
        parse_gpu_ids(value)


def test_1x_and_2x_spellings_agree(gpus: Any) -> None:
    gpus(4)
    assert choose(gpus=1) == connector.DeviceChoice("gpu", [0], "single_device", 1, 1)
    assert choose(accelerator="gpu", devices=1) == choose(gpus=1)
    assert choose(accelerator="cuda", devices=[2]).device_ids == [2]
    assert choose(accelerator="gpu", devices="0,2", strategy="ddp").device_ids == [0, 2]
    assert choose(accelerator="gpu", devices=-1, strategy="ddp").device_ids == [0, 1, 2, 3]
    assert choose(accelerator="gpu", devices="auto", strategy="ddp").device_ids == [0, 1, 2, 3]
    assert choose(accelerator="auto").device_ids == [0]
    assert choose(gpus=2, strategy="ddp") == choose(accelerator="gpu", devices=2, strategy="ddp")
    with pytest.warns(DeprecationWarning, match="use strategy='ddp'"):
        assert choose(gpus=2, accelerator="ddp").strategy == "ddp"  # the 1.x spelling of the mode
    dp = choose(gpus=[0, 1], strategy="dp")
    assert (dp.strategy, dp.num_processes, dp.device_ids) == ("dp", 1, [0, 1])


def test_several_gpus_without_a_strategy_spawn_with_a_warning(gpus: Any) -> None:
    gpus(2)
    with pytest.warns(UserWarning, match="ddp_spawn"):
        choice = choose(gpus=2)
    assert (choice.strategy, choice.num_processes, choice.world_size) == ("ddp_spawn", 2, 2)
    assert choose(gpus=1, num_nodes=2).strategy == "ddp"  # several nodes need a launcher: ddp


def test_cpu_processes_and_nodes(gpus: Any) -> None:
    gpus(0)
    assert choose() == connector.DeviceChoice("cpu", [], "single_device", 1, 1)
    assert choose(num_processes=2).strategy == "ddp_spawn"  # 1.x default for num_processes > 1
    assert choose(accelerator="cpu", devices=3, strategy="ddp").world_size == 3
    assert choose(strategy="ddp_cpu", num_processes=2) == connector.DeviceChoice("cpu", [], "ddp_spawn", 2, 1)
    assert choose(accelerator="cpu", devices=2, num_nodes=2).strategy == "ddp"
    assert choose(accelerator="cpu", devices=2, num_nodes=2).world_size == 4
    with pytest.warns(UserWarning, match="needs GPUs"):
        assert choose(strategy="dp").strategy == "single_device"


def test_ddp_cpu_ignores_gpus_with_a_warning(gpus: Any) -> None:
    gpus(2)
    with pytest.warns(UserWarning, match="ignored"):
        assert choose(gpus=2, strategy="ddp_cpu").accelerator == "cpu"


def test_device_count_given_in_both_spellings_is_an_error(gpus: Any) -> None:
    gpus(4)
    for flags in ({"gpus": 2, "devices": 2}, {"num_processes": 2, "devices": 2, "accelerator": "cpu"},
                  {"replace_sampler_ddp": False, "use_distributed_sampler": False}):
        with pytest.raises(MisconfigurationError, match="two spellings of the same setting"):
            Trainer(**flags)
    # Called directly (without the flag schema), the connector refuses the mix as well.
    flags = {**validate_flags({"gpus": 2}), "devices": 2}
    with pytest.raises(MisconfigurationError, match="devices=2 and gpus=2 both set the number of devices"):
        choose_devices(flags)
    with pytest.raises(MisconfigurationError, match="pass the mode only as strategy"):
        choose(accelerator="ddp", strategy="ddp_spawn")


def test_gpu_requests_without_gpus(gpus: Any) -> None:
    gpus(0)
    with pytest.raises(MisconfigurationError, match=r"You requested GPUs \[0, 1\] \(devices=2\).*0 GPUs"):
        choose(accelerator="gpu", devices=2)
    with pytest.raises(MisconfigurationError, match="0 GPUs"):
        choose(gpus=1)
    with pytest.raises(MisconfigurationError, match="selects no GPU"):
        choose(accelerator="gpu", devices=0)


def test_ddp2_and_tpu_errors(gpus: Any) -> None:
    gpus(2)
    with pytest.raises(MisconfigurationError, match="ddp2.*Use strategy=\"ddp\""):
        choose(gpus=2, strategy="ddp2")
    with pytest.raises(MisconfigurationError, match="ddp2"):
        choose(gpus=2, accelerator="ddp2")
    for flags in ({"tpu_cores": 8}, {"accelerator": "tpu", "devices": 8}):
        with pytest.raises(MisconfigurationError, match="torch_xla"):
            choose(**flags)


def test_auto_select_gpus_picks_usable_devices(gpus: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gpus(4)
    busy = {0, 2}

    def fake_ones(*args: Any, device: str) -> None:
        if int(device.split(":")[1]) in busy:
            raise RuntimeError("CUDA error: all CUDA-capable devices are busy or unavailable")

    monkeypatch.setattr(connector.torch, "ones", fake_ones)
    assert choose(gpus=2, auto_select_gpus=True, strategy="ddp").device_ids == [1, 3]
    assert choose(gpus=[0, 2], auto_select_gpus=True, strategy="ddp").device_ids == [0, 2]  # indices stay as given
    with pytest.raises(MisconfigurationError, match=r"found 2 usable GPU\(s\) \[1, 3\] but 3 were requested"):
        choose(gpus=3, auto_select_gpus=True, strategy="ddp")


def test_trainer_exposes_the_choice(gpus: Any) -> None:
    gpus(0)
    trainer = Trainer(strategy="ddp_spawn", accelerator="cpu", devices=2, logger=False)
    assert (trainer.world_size, trainer.global_rank, trainer.num_nodes, trainer.strategy.name) == (
        2, 0, 1, "ddp_spawn")
    assert trainer.strategy.root_device.type == "cpu"
