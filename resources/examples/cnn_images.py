"""Small CNN that classifies pictures of circles, squares and triangles, read from a folder of PNG files.

On first use ``prepare_data`` draws 3 x 150 grey-scale 24x24 pictures from a fixed seed and writes them as PNG files
in one sub-folder per class (the layout image tools call "image folder")::

    ~/.cache/training-studio/shapes-v1/circle/000.png, .../square/000.png, .../triangle/000.png, ...

Set ``TRAINING_STUDIO_CACHE`` to write elsewhere. Later runs reuse the folder. The same folder also works with the
command line's own image-folder loader: ``--data ~/.cache/training-studio/shapes-v1``.

Shows: ``prepare_data`` (runs once, before ``setup``: the place to download or write files), a convolutional
network with ``example_input_array`` (the summary lists each layer's output shape), and the flags in
``cnn_images.yaml``: validation twice per epoch (``val_check_interval: 0.5``), with early stopping on validation
loss counting those checks. Validation accuracy climbs from chance (0.33) to about 0.9 in 15 epochs.

Run it:
    python -m trainer_core fit --model resources/examples/cnn_images.py --config resources/examples/cnn_images.yaml
"""

import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import EarlyStopping, ModelCheckpoint

CLASSES = ("circle", "square", "triangle")
SIZE = 24
PER_CLASS = 150


def default_data_dir() -> Path:
    """The cache folder the pictures are written to (``$TRAINING_STUDIO_CACHE`` or ``~/.cache/training-studio``)."""
    base = os.environ.get("TRAINING_STUDIO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "training-studio")
    return Path(base) / "shapes-v1"


# ---- pictures ---------------------------------------------------------------------------------------------------
def draw(shape: str, rng: np.random.Generator) -> np.ndarray:
    """Draw one shape of random size, position and brightness on a noisy background; returns uint8 (SIZE, SIZE)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    r = rng.uniform(3.5, 8.0)
    cy, cx = rng.uniform(r + 1, SIZE - r - 1, size=2)
    if shape == "circle":
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    elif shape == "square":
        mask = (np.abs(yy - cy) <= r * 0.85) & (np.abs(xx - cx) <= r * 0.85)
    else:  # triangle pointing up: the half-width grows linearly from the apex to the base
        top, bottom = cy - r, cy + r
        mask = (yy >= top) & (yy <= bottom) & (np.abs(xx - cx) <= (yy - top) * 0.6)
    picture = rng.normal(40, 25, (SIZE, SIZE)) + mask * rng.uniform(90, 200)
    return np.clip(picture, 0, 255).astype(np.uint8)


def write_png(path: Path, pixels: np.ndarray) -> None:
    """Write an 8-bit grey-scale PNG with the standard library only (no Pillow needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    h, w = pixels.shape
    rows = b"".join(b"\x00" + pixels[i].tobytes() for i in range(h))  # filter type 0 (none) on every row
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # 8-bit, colour type 0 (grey), no interlace
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
                     + chunk(b"IEND", b""))


def read_png(path: Path) -> np.ndarray:
    """Read back a PNG written by :func:`write_png`. For other PNGs (photos, RGB) use ``--data PATH`` instead."""
    data = path.read_bytes()
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if (depth, colour) != (8, 0):
                raise ValueError(f"{path}: only 8-bit grey-scale PNGs are supported by this example's reader.")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width + 1)
    if rows[:, 0].any():
        raise ValueError(f"{path}: uses PNG row filters this example's reader does not decode; use --data PATH.")
    return rows[:, 1:]


def generate(folder: Path, seed: int = 0) -> None:
    """Write PER_CLASS pictures per class into ``folder/<class>/NNN.png``; atomic so a crash leaves no half folder."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    rng = np.random.default_rng(seed)
    for label in CLASSES:
        (tmp / label).mkdir()
        for i in range(PER_CLASS):
            write_png(tmp / label / f"{i:03d}.png", draw(label, rng))
    try:
        tmp.rename(folder)
    except OSError:  # another process finished first: keep its folder
        shutil.rmtree(tmp, ignore_errors=True)


# ---- model ------------------------------------------------------------------------------------------------------
class ShapeCNN(pl.LightningModule):
    """Two conv blocks + a linear classifier over the three shape classes."""

    def __init__(self, channels: int = 16, lr: float = 3e-3, batch_size: int = 32, data_dir: str | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1), nn.BatchNorm2d(2 * channels), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(3),  # any picture size -> 3x3 maps
        )
        self.classifier = nn.Linear(2 * channels * 9, len(CLASSES))
        self.example_input_array = torch.zeros(2, 1, SIZE, SIZE)

    @property
    def data_dir(self) -> Path:
        return Path(self.hparams.data_dir) if self.hparams.data_dir else default_data_dir()

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))

    def prepare_data(self):
        # Runs once before setup (and once per machine in multi-node runs): write the pictures if they are missing.
        if not self.data_dir.is_dir():
            generate(self.data_dir)

    def setup(self, stage=None):
        pictures, labels = [], []
        for label, name in enumerate(CLASSES):
            for path in sorted((self.data_dir / name).glob("*.png")):
                pictures.append(read_png(path))
                labels.append(label)
        x = torch.from_numpy(np.stack(pictures)).float().div(255).unsqueeze(1)  # (N, 1, H, W) in [0, 1]
        y = torch.tensor(labels)
        # Every 5th picture goes to validation: a fixed, class-balanced split.
        is_val = torch.arange(len(y)) % 5 == 0
        self.train_set = TensorDataset(x[~is_val], y[~is_val])
        self.val_set = TensorDataset(x[is_val], y[is_val])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=128)

    def test_dataloader(self):
        return DataLoader(self.val_set, batch_size=128)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", (logits.argmax(1) == y).float().mean(), prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    def configure_callbacks(self):
        return [
            # Stop once validation loss has not improved for 4 checks (2 epochs at val_check_interval 0.5); the loss
            # is a smoother signal than the accuracy of 90 validation pictures.
            EarlyStopping(monitor="val_loss", mode="min", patience=4),
            ModelCheckpoint(monitor="val_acc", mode="max", filename="{epoch}-{step}-{val_acc:.3f}"),
        ]


if __name__ == "__main__":
    pl.seed_everything(0)
    trainer = pl.Trainer(max_epochs=15, val_check_interval=0.5)
    model = ShapeCNN()
    trainer.fit(model)
    trainer.test(model, ckpt_path="best")
