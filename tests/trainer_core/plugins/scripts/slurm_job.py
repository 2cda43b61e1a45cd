"""A training job as SLURM runs it: the first run waits in training until the test sends SIGUSR1 (saving and
requeueing), the requeued run resumes. Usage: slurm_job.py ROOT MAX_STEPS first|requeued"""

import os
import sys
import time
from pathlib import Path

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from trainer_core.plugins.environments import SLURMEnvironment

root, max_steps, run = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class WaitsForTheSignal(BoringModel):
    def training_step(self, batch, batch_idx):
        out = super().training_step(batch, batch_idx)
        if run == "first" and self.global_step == 2:
            Path(root, "training").write_text(str(os.getpid()))
            deadline = time.monotonic() + 60
            while not Path(root, "hpc_ckpt_1.ckpt").exists() and time.monotonic() < deadline:
                time.sleep(0.01)  # the signal handler runs here, in the main thread
            self.trainer.should_stop = True
        return out


plugins = [SLURMEnvironment(auto_requeue=True)] if run == "first" else None  # the requeued run detects SLURM
trainer = pl.Trainer(default_root_dir=root, max_steps=max_steps, plugins=plugins, logger=False,
                     enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                     limit_val_batches=0)
resumed = trainer.resume_from_checkpoint
trainer.fit(WaitsForTheSignal())
print(f"resumed={resumed} step={trainer.global_step}")
