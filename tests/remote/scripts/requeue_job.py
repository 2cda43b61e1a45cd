"""A training job for the real-SLURM requeue test: ``requeue_job.py ROOT MAX_STEPS`` under ``srun``.

Every training step appends ``{"restart": N, "step": S}`` to ROOT/steps.jsonl. The first run (restart 0) waits in
step 2 until the requeue checkpoint exists (the test sends SIGUSR1 with ``scancel --signal=USR1``), then stops; the
requeued run (SLURM_RESTART_COUNT 1) resumes from that checkpoint and trains to MAX_STEPS.
"""

import json
import os
import sys
import time
from pathlib import Path

import trainer_core as pl
from tests.helpers.boring_model import BoringModel

root, max_steps = sys.argv[1], int(sys.argv[2])
restart = int(os.environ.get("SLURM_RESTART_COUNT", "0"))


class RecordsItsSteps(BoringModel):
    def training_step(self, batch, batch_idx):
        with open(Path(root, "steps.jsonl"), "a") as handle:
            handle.write(json.dumps({"restart": restart, "step": self.global_step}) + "\n")
        out = super().training_step(batch, batch_idx)
        if restart == 0 and self.global_step == 2:
            Path(root, "training").write_text(str(os.getpid()))
            deadline = time.monotonic() + 120
            while not Path(root, "hpc_ckpt_1.ckpt").exists() and time.monotonic() < deadline:
                time.sleep(0.01)  # the signal handler runs here, in the main thread
            self.trainer.should_stop = True
        return out


# No plugin given: under srun the trainer detects SLURM, and requeue on SIGUSR1 is on by default (as 1.x).
trainer = pl.Trainer(default_root_dir=root, max_steps=max_steps, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
trainer.fit(RecordsItsSteps())
print(f"restart={restart} resumed={trainer.resume_from_checkpoint} step={trainer.global_step}")
