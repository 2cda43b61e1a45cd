"""Debug mode "batch_independence": the runner checks the model instead of training and prints the answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from trainer_core.runner import RunSpec, execute

SCRIPT = textwrap.dedent('''
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    import trainer_core as pl

    class Net(pl.LightningModule):
        def __init__(self, mix: bool = False):
            super().__init__()
            self.mix = mix
            self.layer = torch.nn.Linear(4, 1)

        def forward(self, x):
            return self.layer(x.view(4, -1).t().contiguous() if self.mix else x)

        def setup(self, stage=None):
            self.data = TensorDataset(torch.randn(16, 4), torch.randn(16, 1))

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.mse_loss(self(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

        def train_dataloader(self):
            return DataLoader(self.data, batch_size=8)
''')


@pytest.mark.parametrize(("mix", "answer"), [(False, "keeps the samples of a batch apart"),
                                             (True, "mixing data across the batch dimension")])
def test_the_debug_mode_says_whether_the_model_mixes_the_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 mix: bool, answer: str) -> None:
    script = tmp_path / "net.py"
    script.write_text(SCRIPT)
    result = execute(RunSpec(mode="debug", debug="batch_independence", model_script=str(script),
                             model_init_args={"mix": mix},
                             trainer_flags={"default_root_dir": str(tmp_path), "enable_progress_bar": False}))
    out = capsys.readouterr().out
    assert answer in out and "batch of 8" in out, "the first training batch, after setup() made the data"
    assert result.metrics == {"batch_independent": 0.0 if mix else 1.0}
    assert not (tmp_path / "lightning_logs").exists(), "nothing trained, nothing written"
