"""Data-parallel strategies on PyTorch's own engines: DistributedDataParallel (torch.distributed) and DataParallel.

- ``ddp``: one process per device. Under ``torchrun`` or SLURM the ranks come from the environment; started as a
  plain script the trainer re-launches the script once per extra local rank (``DDPStrategy.launch``).
- ``ddp_spawn`` (and 1.x ``ddp_cpu``): the trainer starts the workers with ``torch.multiprocessing`` (spawn) and the
  final weights and metrics come back to the calling process (``trainer_core.strategies.spawn``).
- ``dp``: ``torch.nn.DataParallel`` in one process (GPUs only).

Communication is NCCL on GPUs and gloo on CPUs; nothing here is home-made beyond choosing ranks and ports.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import warnings
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from trainer_core.accelerators.choice import DeviceChoice
from trainer_core.exceptions import MisconfigurationError
from trainer_core.strategies.base import ParallelStrategy
from trainer_core.strategies.cluster import ClusterEnvironment
from trainer_core.strategies.environment import cluster_environment, free_port, prepare_rendezvous
from trainer_core.strategies.launcher import ChildRanks, relaunch_command, run_with_children
from trainer_core.strategies.spawn_launch import spawn_launch

__all__ = ["DDPStrategy", "DataParallelStrategy", "cluster_environment", "convert_sync_batchnorm"]

log = logging.getLogger("trainer_core")

_REDUCE_OPS = {"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX, "min": dist.ReduceOp.MIN,
               "mean": dist.ReduceOp.SUM}


class _StepForward(nn.Module):
    """Routes a step through ``forward`` so that DDP/DP hooks (gradient sync, scatter/gather) see it."""

    def __init__(self, module: nn.Module, trainer: Any) -> None:
        super().__init__()
        self.module = module
        self._trainer = [trainer]  # a list keeps the trainer out of nn.Module's registries

    def forward(self, step_name: str, *args: Any) -> Any:
        return self._trainer[0]._hooks.module(step_name, *args)


class DDPStrategy(ParallelStrategy):
    """DistributedDataParallel with one process per device (``num_processes`` CPU processes on gloo)."""

    name = "ddp"

    def __init__(self, *, find_unused_parameters: bool = True, cluster_environment: ClusterEnvironment | None = None,
                 sync_batchnorm: bool | None = None, **ddp_kwargs: Any) -> None:
        """Configure DDP; the devices come from the Trainer's flags when the trainer connects the strategy.

        Args:
            find_unused_parameters: let DistributedDataParallel find parameters that got no gradient in a step
                (True by default, as in 1.x: a model with an unused parameter trains instead of failing; False,
                or ``strategy="ddp_find_unused_parameters_false"``, saves a graph traversal per step).
            cluster_environment: where the ranks come from (default: detect torchrun/SLURM, else start them here).
            sync_batchnorm: overrides the Trainer's ``sync_batchnorm`` flag when given.
            **ddp_kwargs: further ``torch.nn.parallel.DistributedDataParallel`` arguments
                (``gradient_as_bucket_view``, ``static_graph``, ``bucket_cap_mb``...).
        """
        super().__init__("cpu")
        self.ddp_kwargs: dict[str, Any] = {"find_unused_parameters": find_unused_parameters, **ddp_kwargs}
        self.cluster_environment = cluster_environment
        self._sync_batchnorm_arg = sync_batchnorm
        self.sync_batchnorm = bool(sync_batchnorm)
        self.device_ids: list[int] = []
        self._ddp: nn.Module | None = None
        self._owns_group = False
        self._children: ChildRanks | None = None
        self.launches_processes = False

    @property
    def find_unused_parameters(self) -> bool:
        return bool(self.ddp_kwargs["find_unused_parameters"])

    def connect(self, choice: DeviceChoice, flags: dict[str, Any],
                environment: ClusterEnvironment | None = None) -> None:
        """Take the devices, process counts and ranks of the trainer's device choice."""
        if environment is not None:
            if self.cluster_environment is not None and self.cluster_environment is not environment:
                raise MisconfigurationError(
                    f"two cluster environments given: {type(self.cluster_environment).__name__} on the strategy and "
                    f"{type(environment).__name__} in plugins; pass one")
            self.cluster_environment = environment
        self.device_ids = choice.device_ids
        self.num_devices = choice.num_processes
        self.num_nodes = choice.num_nodes
        self.world_size = self.num_devices * self.num_nodes
        sync = self._sync_batchnorm_arg
        self.sync_batchnorm = bool(flags.get("sync_batchnorm") if sync is None else sync)
        env = self._launcher_ranks()
        if env is not None and env["world_size"] != self.world_size:
            launcher = "SLURM (SLURM_NTASKS)" if env["slurm"] else "torchrun (WORLD_SIZE)"
            if not env["slurm"]:
                raise MisconfigurationError(
                    f"{launcher} started {env['world_size']} processes, but the Trainer asks for num_nodes x devices "
                    f"= {self.num_nodes} x {self.num_devices} = {self.world_size}. Make them agree: torchrun "
                    "--nnodes N --nproc_per_node D with Trainer(num_nodes=N, devices=D)")
            warnings.warn(f"{launcher} has {env['world_size']} tasks but the Trainer asks for {self.world_size} "
                          "processes; ignoring SLURM and starting the processes here", UserWarning, stacklevel=2)
            env = None
        if env is not None:
            self._set_ranks(env["global_rank"], env["local_rank"], env["node_rank"], env["world_size"])
            self.launches_processes = False
        else:
            self.launches_processes = self.world_size > 1
            self._set_ranks(0, 0, 0, self.world_size)

    def _launcher_ranks(self) -> dict[str, int] | None:
        """Ranks set by whoever started this process (torchrun, SLURM, Kubeflow), or None when the trainer starts
        the processes."""
        env = self.cluster_environment
        if env is None:
            return cluster_environment()
        return env.ranks() if env.creates_children() else None

    def _set_ranks(self, global_rank: int, local_rank: int, node_rank: int, world_size: int) -> None:
        self.global_rank, self.local_rank = global_rank, local_rank
        self.node_rank, self.world_size = node_rank, world_size
        self.root_device = torch.device("cuda", self.device_ids[local_rank]) if self.device_ids else torch.device("cpu")
        from trainer_core.loggers import rank_zero_only

        rank_zero_only.rank = global_rank  # logging and printing helpers act on rank 0 only
        if global_rank > 0:
            # The engine's info lines and warnings come once, from rank 0; errors still show on every rank.
            logging.getLogger("trainer_core").setLevel(logging.ERROR)

    # --- processes ------------------------------------------------------------------------------------------
    def launch(self, trainer: Any, stage: str, body: Any) -> Any:
        """Started as a plain script: re-run it for local ranks 1..n-1 and become local rank 0 ourselves."""
        if self._children is None:
            import multiprocessing

            if multiprocessing.parent_process() is not None:
                # Re-running this process's command would start its parent program again (e.g. the studio):
                # start the workers the ddp_spawn way instead.
                warnings.warn("strategy=\"ddp\" in a process started by multiprocessing: the workers are spawned "
                              "(as with strategy=\"ddp_spawn\") instead of re-running the program", UserWarning,
                              stacklevel=2)
                return spawn_launch(self, trainer, stage, body)
            self._start_children()
        assert self._children is not None
        return run_with_children(self._children, lambda: trainer._run_stage_here(stage, body))

    def _start_children(self) -> None:
        if self.num_nodes > 1:
            raise MisconfigurationError(
                f"num_nodes={self.num_nodes}: start one process per device on every node with torchrun "
                "(torchrun --nnodes N --node_rank R --nproc_per_node D --master_addr HOST script.py) or SLURM srun")
        main = sys.modules.get("__main__")
        if main is None or not getattr(main, "__file__", None):
            raise MisconfigurationError(
                "strategy=\"ddp\" re-runs your script once per process, which is impossible from an interactive "
                "session or notebook; use strategy=\"ddp_spawn\" there")
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()),
               "WORLD_SIZE": str(self.world_size), "GROUP_RANK": "0"}
        self._children = ChildRanks(relaunch_command(), env, self.world_size)
        os.environ.update({**env, "RANK": "0", "LOCAL_RANK": "0"})
        self._set_ranks(0, 0, 0, self.world_size)

    def setup_environment(self) -> None:
        if self.root_device.type == "cuda":
            torch.cuda.set_device(self.root_device)
        if not dist.is_initialized():
            prepare_rendezvous()
            backend = "nccl" if self.root_device.type == "cuda" else "gloo"
            dist.init_process_group(backend, rank=self.global_rank, world_size=self.world_size,
                                    timeout=timedelta(seconds=int(os.environ.get("TRAINER_CORE_DDP_TIMEOUT", 1800))))
            self._owns_group = True
            _close_group_at_exit()
            if self.is_global_zero:
                log.info("DDP: %d processes (%d node(s) x %d device(s)) on %s", self.world_size, self.num_nodes,
                         self.num_devices, backend)

    def setup_module(self, module: nn.Module) -> nn.Module:
        module = convert_sync_batchnorm(module.to(self.root_device), self.root_device, self.sync_batchnorm)
        trainer = module.trainer
        if trainer is not None and trainer.lightning_module is not module:
            trainer.lightning_module = module
        if trainer is not None and not self.is_global_zero:
            _disable_progress_bars(trainer)
        wrapper = _StepForward(module, trainer)
        device_ids = [self.root_device.index] if self.root_device.type == "cuda" else None
        self._ddp = nn.parallel.DistributedDataParallel(wrapper, device_ids=device_ids, **self.ddp_kwargs)
        return self._ddp

    def unwrap(self, model: nn.Module) -> nn.Module:
        return model.module.module if isinstance(model, nn.parallel.DistributedDataParallel) else model

    def training_step(self, trainer: Any, *args: Any) -> Any:
        if self._ddp is None:
            return trainer._hooks.module("training_step", *args)
        return self._ddp("training_step", *args)

    def block_backward_sync(self, model: Any) -> Any:
        from contextlib import nullcontext

        return self._ddp.no_sync() if self._ddp is not None else nullcontext()

    def teardown(self) -> None:
        self._ddp = None

    def destroy(self) -> None:
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self._owns_group = False

    # --- collectives ----------------------------------------------------------------------------------------
    def reduce(self, tensor: torch.Tensor, reduce_op: str = "mean") -> torch.Tensor:
        if not dist.is_initialized() or self.world_size == 1:
            return tensor
        out = tensor.detach().clone().float()
        dist.all_reduce(out, op=_REDUCE_OPS[reduce_op])
        return out / self.world_size if reduce_op == "mean" else out

    def reduce_boolean_decision(self, decision: bool, all: bool = False) -> bool:  # noqa: A002
        if not dist.is_initialized() or self.world_size == 1:
            return decision
        votes = torch.tensor(int(decision), device=self.root_device)
        dist.all_reduce(votes, op=dist.ReduceOp.SUM)
        return bool(votes.item() == self.world_size) if all else bool(votes.item() > 0)

    def broadcast(self, obj: Any, src: int = 0) -> Any:
        if not dist.is_initialized() or self.world_size == 1:
            return obj
        holder = [obj]
        dist.broadcast_object_list(holder, src=src)
        return holder[0]

    def all_gather(self, tensor: torch.Tensor) -> torch.Tensor:
        if not dist.is_initialized() or self.world_size == 1:
            return tensor.unsqueeze(0)
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.stack(parts)

    def all_gather_object(self, obj: Any) -> list[Any]:
        if not dist.is_initialized() or self.world_size == 1:
            return [obj]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, obj)
        return gathered

    def barrier(self, name: str | None = None) -> None:
        if dist.is_initialized() and self.world_size > 1:
            dist.barrier()

    def distributed_sampler_kwargs(self) -> dict[str, int] | None:
        return {"num_replicas": self.world_size, "rank": self.global_rank} if self.world_size > 1 else None


def _close_group_at_exit() -> None:
    """Free any DistributedDataParallel and close the process group before interpreter teardown (once per process).

    A DistributedDataParallel (its gloo reducer) that is still alive when the interpreter tears itself down can abort
    a rank whose run had already succeeded: SIGABRT, "terminate called without an active exception", and torchrun
    then reports the whole job as failed. In a stress loop of 2-rank torchrun-style fits on 2 CPU cores 15 of 100
    ranks died that way; with this hook none of 180 did. atexit handlers run before that teardown.
    """
    atexit.unregister(_close_process_group)  # one registration however many groups this process opens
    atexit.register(_close_process_group)


def _close_process_group() -> None:
    import gc

    gc.collect()  # a DistributedDataParallel still held in a reference cycle goes now, while gloo's threads live
    if dist.is_available() and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception as err:  # the run is over: report, never turn a finished run into a failure
            log.warning("closing the torch.distributed process group at exit failed: %s", err)


def _disable_progress_bars(trainer: Any) -> None:
    """Only rank 0 draws progress bars (every rank would otherwise print its own)."""
    for callback in getattr(trainer, "callbacks", []):
        if callable(getattr(callback, "disable", None)) and hasattr(callback, "is_enabled"):
            callback.disable()


def convert_sync_batchnorm(module: nn.Module, device: torch.device, enabled: bool) -> nn.Module:
    """``sync_batchnorm=True``: BatchNorm layers become SyncBatchNorm (statistics over every rank's batch).

    PyTorch's SyncBatchNorm only runs on accelerators; on CPU processes it would fail at the first training batch,
    so there the layers stay per-process BatchNorm and a warning says so.
    """
    if not enabled:
        return module
    if device.type == "cpu":
        warnings.warn("sync_batchnorm=True has no effect on CPU processes: PyTorch's SyncBatchNorm needs CUDA "
                      "devices, so each process normalises with its own batch statistics", UserWarning, stacklevel=3)
        return module
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


class DataParallelStrategy(ParallelStrategy):
    """``torch.nn.DataParallel`` over the selected GPUs in one process; ``*_step_end`` reduces device outputs."""

    name = "dp"

    def __init__(self) -> None:
        super().__init__("cpu")
        self.device_ids: list[int] = []
        self._dp: nn.Module | None = None

    def connect(self, choice: DeviceChoice, flags: dict[str, Any],
                environment: ClusterEnvironment | None = None) -> None:
        """Take the GPUs of the trainer's device choice (DataParallel needs at least one)."""
        if not choice.device_ids:
            raise MisconfigurationError("DataParallel (strategy=\"dp\" / DataParallelPlugin) needs GPUs: give "
                                        "gpus=N or accelerator=\"gpu\", devices=N")
        self.root_device = torch.device("cuda", choice.device_ids[0])
        self.device_ids = choice.device_ids
        self.num_devices = len(choice.device_ids)

    def setup_module(self, module: nn.Module) -> nn.Module:
        module = module.to(self.root_device)
        self._dp = nn.DataParallel(_StepForward(module, module.trainer), device_ids=self.device_ids)
        return self._dp

    def report_effective_batch_size(self, trainer: Any) -> None:
        from trainer_core.strategies.base import loader_batch_size

        batch = loader_batch_size(getattr(trainer, "train_dataloader", None))
        if batch is not None and self.num_devices > 1:
            log.info("DataParallel: each batch of %d is split over %d GPUs (about %d per GPU); the effective batch "
                     "size stays %d", batch, self.num_devices, -(-batch // self.num_devices), batch)

    def training_step(self, trainer: Any, *args: Any) -> Any:
        output = self._dp("training_step", *args) if self._dp is not None else trainer._hooks.module(
            "training_step", *args)
        if not trainer._hooks.module_overrides("training_step_end"):
            output = _mean_device_outputs(output)
        return output

    def eval_step(self, trainer: Any, step_name: str, *args: Any) -> Any:
        return self._dp(step_name, *args) if self._dp is not None else trainer._hooks.module(step_name, *args)


def _mean_device_outputs(output: Any) -> Any:
    """DP gathers one loss per device; without ``training_step_end`` the loss is their mean (1.x behaviour)."""
    if isinstance(output, torch.Tensor) and output.ndim == 1:
        return output.mean()
    if isinstance(output, dict) and isinstance(output.get("loss"), torch.Tensor) and output["loss"].ndim == 1:
        return {**output, "loss": output["loss"].mean()}
    return output

