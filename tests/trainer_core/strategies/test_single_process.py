"""Distributed plumbing that needs no second process: samplers, batch transfer, device-agnostic code, reports."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler, TensorDataset
from torch.utils.data.distributed import DistributedSampler

import trainer_core as pl
from trainer_core import MisconfigurationError, Trainer
from trainer_core.accelerators.choice import DeviceChoice
from trainer_core.loggers import rank_zero_only
from trainer_core.strategies.base import loader_batch_size, set_sampler_epoch
from trainer_core.strategies.distributed import DDPStrategy, convert_sync_batchnorm
from trainer_core.strategies.environment import cluster_environment, slurm_master_address, slurm_master_port
from trainer_core.trainer.data import CombinedLoader, prepare_loader

QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": False,
         "enable_checkpointing": False}
_LAUNCH_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "GROUP_RANK", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_JOB_NAME")


@pytest.fixture(autouse=True)
def no_launcher(monkeypatch: pytest.MonkeyPatch) -> Any:
    """No launcher variables; and whatever rank a test's strategy claims, this process stays rank 0 afterwards."""
    for name in _LAUNCH_VARS:
        monkeypatch.delenv(name, raising=False)
    engine_log = logging.getLogger("trainer_core")
    level, rank = engine_log.level, rank_zero_only.rank
    yield
    engine_log.setLevel(level)
    rank_zero_only.rank = rank


class TwoRanks:
    """What prepare_loader asks of a strategy, as rank 1 of 2."""

    def distributed_sampler_kwargs(self) -> dict[str, int]:
        return {"num_replicas": 2, "rank": 1}


def indexed(n: int) -> TensorDataset:
    return TensorDataset(torch.arange(n, dtype=torch.float32).unsqueeze(1))


def test_distributed_sampler_injected_train_shuffled_eval_not() -> None:
    train = prepare_loader(DataLoader(indexed(10), batch_size=2, shuffle=True), shuffle_for_ddp=True,
                           sequential=False, strategy=TwoRanks(), use_distributed_sampler=True)
    assert isinstance(train.sampler, DistributedSampler) and train.sampler.shuffle
    assert (train.sampler.num_replicas, train.sampler.rank, train.batch_size) == (2, 1, 2)
    val = prepare_loader(DataLoader(indexed(9), batch_size=2, shuffle=True), shuffle_for_ddp=False,
                         sequential=False, strategy=TwoRanks(), use_distributed_sampler=True)
    assert isinstance(val.sampler, DistributedSampler) and not val.sampler.shuffle
    assert list(val.sampler) == [1, 3, 5, 7, 0]  # rank 1's share, padded to equal length (no uneven hang)
    unshuffled = prepare_loader(DataLoader(indexed(10), batch_size=2), shuffle_for_ddp=True, sequential=False,
                                strategy=TwoRanks(), use_distributed_sampler=True)
    assert not unshuffled.sampler.shuffle  # a sequential train loader stays sequential


def test_use_distributed_sampler_false_keeps_the_users_sampler() -> None:
    own = SequentialSampler(indexed(10))
    loader = DataLoader(indexed(10), batch_size=2, sampler=own)
    kept = prepare_loader(loader, shuffle_for_ddp=True, sequential=False, strategy=TwoRanks(),
                          use_distributed_sampler=False)
    assert kept is loader and kept.sampler is own
    assert Trainer(use_distributed_sampler=False, **QUIET).use_distributed_sampler is False
    assert Trainer(replace_sampler_ddp=False, **QUIET).use_distributed_sampler is False


def test_set_sampler_epoch_reaches_every_sampler() -> None:
    data = indexed(8)
    a = DistributedSampler(data, num_replicas=2, rank=0)
    b = DistributedSampler(data, num_replicas=2, rank=0)
    combined = CombinedLoader({"a": DataLoader(data, sampler=a), "b": DataLoader(data, batch_size=2, sampler=b)})
    set_sampler_epoch(combined, 3)
    assert (a.epoch, b.epoch) == (3, 3)
    set_sampler_epoch(DataLoader(data, sampler=RandomSampler(data)), 1)  # samplers without set_epoch are left
    assert loader_batch_size(combined) == 1 and loader_batch_size(DataLoader(data, batch_size=5)) == 5


class RecordingSampler(DistributedSampler):
    def __init__(self, data: Any) -> None:
        super().__init__(data, num_replicas=1, rank=0, shuffle=True, seed=3)
        self.epochs: list[int] = []

    def set_epoch(self, epoch: int) -> None:
        self.epochs.append(epoch)
        super().set_epoch(epoch)


class Linear(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.seen: list[list[float]] = []

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        (x,) = batch
        if batch_idx == 0:
            self.seen.append(x.flatten().tolist())
        return self.layer(x).pow(2).mean()

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_fit_loop_sets_the_sampler_epoch_each_epoch() -> None:
    sampler = RecordingSampler(indexed(16))
    model = Linear()
    Trainer(max_epochs=3, **QUIET).fit(model, DataLoader(indexed(16), batch_size=16, sampler=sampler))
    assert sampler.epochs == [0, 1, 2]
    assert len({tuple(order) for order in model.seen}) == 3  # each epoch shuffled differently
    assert all(sorted(order) == list(range(16)) for order in model.seen)


class Wrapped:
    """A batch type the default transfer does not know: the module's hook must move it."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x


class CustomTransfer(Linear):
    def __init__(self) -> None:
        super().__init__()
        self.devices: list[torch.device] = []

    def transfer_batch_to_device(self, batch: Any, device: torch.device, dataloader_idx: int = 0) -> Any:
        self.devices.append(device)
        return Wrapped(batch[0].to(device, torch.float64))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        assert isinstance(batch, Wrapped)
        # Device-agnostic code: new tensors follow the module's device and the input's dtype.
        offset = torch.ones(1, device=self.device).type_as(batch.x)
        assert offset.device == batch.x.device == self.device == self.trainer.strategy.root_device
        assert offset.dtype == batch.x.dtype == torch.float64
        return self.layer((batch.x + offset).float()).pow(2).mean()


def test_transfer_batch_to_device_is_called_and_self_device_works() -> None:
    model = CustomTransfer()
    trainer = Trainer(max_epochs=1, **QUIET)
    trainer.fit(model, DataLoader(indexed(6), batch_size=2))
    assert model.devices == [torch.device("cpu")] * 3
    assert trainer.global_step == 3


def _ddp(world: int = 2, **flags: Any) -> DDPStrategy:
    strategy = DDPStrategy()
    strategy.connect(DeviceChoice("cpu", [], "ddp", world, 1), flags)
    return strategy


class FakeTrainer:
    accumulate_grad_batches = 2

    def __init__(self, loader: Any) -> None:
        self.train_dataloader = loader


def test_effective_batch_size_is_reported_once_on_rank_zero(caplog: pytest.LogCaptureFixture) -> None:
    strategy = _ddp()
    loader = DataLoader(indexed(16), batch_size=4, sampler=DistributedSampler(indexed(16), num_replicas=2, rank=0))
    with caplog.at_level(logging.INFO, logger="trainer_core"):
        strategy.before_train_epoch(FakeTrainer(loader), 0)
        strategy.before_train_epoch(FakeTrainer(loader), 1)
    lines = [r.getMessage() for r in caplog.records if "Effective batch size" in r.getMessage()]
    assert lines == ["Effective batch size: 4 per process x 2 processes (1 node(s) x 2 device(s)) = 8; "
                     "x accumulate_grad_batches=2 = 16 per step"]
    assert loader.sampler.epoch == 1
    other = _ddp()
    other.global_rank = 1
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="trainer_core"):
        other.before_train_epoch(FakeTrainer(loader), 0)
    assert not [r for r in caplog.records if "Effective" in r.getMessage()]


def test_sync_batchnorm_conversion() -> None:
    def net() -> torch.nn.Sequential:
        return torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))

    assert isinstance(convert_sync_batchnorm(net(), torch.device("cuda", 0), True)[1], torch.nn.SyncBatchNorm)
    plain = net()
    assert convert_sync_batchnorm(plain, torch.device("cuda", 0), False) is plain
    with pytest.warns(UserWarning, match="SyncBatchNorm needs CUDA"):
        kept = convert_sync_batchnorm(net(), torch.device("cpu"), True)[1]
    assert type(kept) is torch.nn.BatchNorm1d


def test_launcher_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cluster_environment() is None
    monkeypatch.setenv("SLURM_NTASKS", "4")
    monkeypatch.setenv("SLURM_PROCID", "3")
    monkeypatch.setenv("SLURM_LOCALID", "1")
    monkeypatch.setenv("SLURM_NODEID", "1")
    assert cluster_environment() == {"global_rank": 3, "local_rank": 1, "world_size": 4, "node_rank": 1,
                                     "slurm": 1}
    strategy = DDPStrategy()
    strategy.connect(DeviceChoice("cpu", [], "ddp", 2, 2), {})
    assert (strategy.global_rank, strategy.local_rank, strategy.node_rank, strategy.launches_processes) == (
        3, 1, 1, False)
    assert rank_zero_only.rank == 3 and logging.getLogger("trainer_core").level == logging.ERROR  # quiet rank
    monkeypatch.setenv("SLURM_JOB_NAME", "bash")  # an interactive allocation is not a launcher
    assert cluster_environment() is None
    assert slurm_master_address("gpu[03-05,09],cpu1") == "gpu03"
    assert slurm_master_address("node7,node8") == "node7"
    assert slurm_master_port("123456") == 15000 + 3456


def test_torchrun_world_size_must_match_the_trainer(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "4"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(MisconfigurationError, match=r"started 4 processes.*1 x 2 = 2"):
        _ddp(2)


def test_spawn_payload_carries_locks_and_file_loaded_scripts(tmp_path: Any) -> None:
    import pickle
    import sys
    import threading

    from trainer_core.loading.script import import_script
    from trainer_core.strategies.spawn_launch import _dumps, _import_file_modules, file_loaded_modules

    script = tmp_path / "net.py"
    script.write_text("class Box:\n    def __init__(self):\n        import threading\n"
                      "        self.lock = threading.Lock()\n")
    module = import_script(script)
    found = file_loaded_modules()
    assert found[module.__name__] == str(script)  # a worker could not import it by name
    assert "torch" not in found and "json" not in found
    box = module.Box()
    box.lock.acquire()
    payload = _dumps(box)
    del sys.modules[module.__name__]  # as in a fresh worker
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(payload)
    _import_file_modules({module.__name__: str(script)})
    copy = pickle.loads(payload)
    assert isinstance(copy.lock, type(threading.Lock())) and not copy.lock.locked()  # a fresh lock


def test_dp_averages_per_device_losses_without_step_end() -> None:
    from trainer_core.strategies.distributed import _mean_device_outputs

    assert float(_mean_device_outputs(torch.tensor([1.0, 3.0]))) == 2.0
    out = _mean_device_outputs({"loss": torch.tensor([2.0, 4.0]), "extra": 1})
    assert float(out["loss"]) == 3.0 and out["extra"] == 1
    scalar = torch.tensor(5.0)
    assert _mean_device_outputs(scalar) is scalar  # already reduced (training_step_end or one device)


def test_slurm_rendezvous_address_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from trainer_core.strategies.environment import prepare_rendezvous

    for name in ("MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.setenv(name, "placeholder")  # recorded, so the values set below are undone afterwards
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLURM_JOB_ID", "987654")
    monkeypatch.setenv("SLURM_PROCID", "1")
    monkeypatch.setenv("SLURM_JOB_NODELIST", "gpu[12-13]")
    prepare_rendezvous()
    assert (os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"]) == ("gpu12", "22654")  # same on every task
    monkeypatch.setenv("MASTER_ADDR", "10.1.2.3")  # set by the user: kept
    prepare_rendezvous()
    assert os.environ["MASTER_ADDR"] == "10.1.2.3"
