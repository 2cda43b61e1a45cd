"""A classifier script written the way Lightning 1.5's LightningLite examples are: the plain PyTorch loop moved
into ``run`` with ``setup``/``setup_dataloaders``/``backward``. Random 8x8 "images" stand in for MNIST.

Usage: lite_classifier.py [--accelerator cpu] [--strategy ddp_spawn] [--devices 2] [--epochs 2]
"""

import argparse

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from trainer_core.lite import LightningLite


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return F.log_softmax(self.fc2(F.relu(self.fc1(x.flatten(1)))), dim=1)


def make_data(n):
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 8, 8, generator=generator)
    return TensorDataset(x, (x.mean(dim=(1, 2, 3)) * 8).long().clamp(0, 3))


class Lite(LightningLite):
    def run(self, hparams):
        self.seed_everything(hparams.seed)
        train_loader, test_loader = self.setup_dataloaders(
            DataLoader(make_data(128), batch_size=16, shuffle=True), DataLoader(make_data(64), batch_size=16))
        model = Net()
        optimizer = torch.optim.Adadelta(model.parameters(), lr=hparams.lr)
        model, optimizer = self.setup(model, optimizer)
        for epoch in range(1, hparams.epochs + 1):
            model.train()
            for data, target in train_loader:
                optimizer.zero_grad()
                loss = F.nll_loss(model(data), target)
                self.backward(loss)
                optimizer.step()
            model.eval()
            test_loss = torch.zeros(1, device=self.device)
            correct = torch.zeros(1, device=self.device)
            with torch.no_grad():
                for data, target in test_loader:
                    output = model(data)
                    test_loss += F.nll_loss(output, target, reduction="sum")
                    correct += (output.argmax(dim=1) == target).sum()
            test_loss = self.all_gather(test_loss).sum() / 64
            accuracy = self.all_gather(correct).sum() / 64
            self.print(f"epoch {epoch}: test loss {test_loss.item():.4f}, accuracy {accuracy.item():.3f}, "
                       f"world size {self.world_size}")
        if hparams.save_model:
            self.save(model.state_dict(), "lite_classifier.pt")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="LightningLite classifier")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save-model", action="store_true", default=False)
    parser.add_argument("--accelerator", default="cpu")
    parser.add_argument("--strategy", default=None)
    parser.add_argument("--devices", type=int, default=1)
    hparams = parser.parse_args()
    Lite(accelerator=hparams.accelerator, strategy=hparams.strategy, devices=hparams.devices).run(hparams)
