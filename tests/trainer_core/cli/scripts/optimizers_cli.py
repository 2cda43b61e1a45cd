"""A regression script written the Lightning 1.5 way: the optimizer and the scheduler come from the command line
(``add_optimizer_args``/``add_lr_scheduler_args``, the model has no ``configure_optimizers``), and the model and
the datamodule are chosen among subclasses (``subclass_mode_model``/``subclass_mode_data``).

    python optimizers_cli.py fit --model=DeepRegressor --data=NoisyData --optimizer=Adam --optimizer.lr=0.01
"""

import json

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.utilities.cli import LightningCLI


class Regressor(pl.LightningModule):
    def __init__(self, hidden: int = 8):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss


class DeepRegressor(Regressor):
    def __init__(self, hidden: int = 8, depth: int = 1):
        super().__init__(hidden)
        self.save_hyperparameters()
        for _ in range(depth):
            self.net.insert(2, nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU()))


class RegressionData(pl.LightningDataModule):
    def __init__(self, batch_size: int = 8):
        super().__init__()
        self.batch_size = batch_size

    def noise(self) -> float:
        return 0.0

    def train_dataloader(self):
        x = torch.randn(32, 4, generator=torch.Generator().manual_seed(0))
        y = x.sum(dim=1, keepdim=True) + self.noise() * torch.randn(32, 1, generator=torch.Generator().manual_seed(1))
        return DataLoader(TensorDataset(x, y), batch_size=self.batch_size)


class NoisyData(RegressionData):
    def __init__(self, batch_size: int = 8, level: float = 0.1):
        super().__init__(batch_size)
        self.level = level

    def noise(self) -> float:
        return self.level


class OptimizersCLI(LightningCLI):
    def add_arguments_to_parser(self, parser):
        parser.add_optimizer_args((torch.optim.SGD, torch.optim.Adam))
        parser.add_lr_scheduler_args(torch.optim.lr_scheduler.StepLR)

    def after_fit(self):
        optimizer = self.trainer.optimizers[0]
        scheduler = self.trainer.lr_schedulers[0]["scheduler"]
        print("result:", json.dumps({
            "model": type(self.model).__name__, "depth": self.model.hparams.get("depth"),
            "data": type(self.datamodule).__name__, "level": getattr(self.datamodule, "level", None),
            "optimizer": type(optimizer).__name__, "lr": optimizer.param_groups[0]["lr"],
            "initial_lr": optimizer.param_groups[0]["initial_lr"],
            "scheduler": type(scheduler).__name__, "step_size": scheduler.step_size,
            "epochs": self.trainer.current_epoch}))


if __name__ == "__main__":
    OptimizersCLI(Regressor, RegressionData, subclass_mode_model=True, subclass_mode_data=True,
                  save_config_overwrite=True,
                  trainer_defaults={"enable_progress_bar": False, "enable_model_summary": False})
