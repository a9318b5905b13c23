"""Tiny modules for tests and for checking a user-plugged ``class_path`` setup end to end:
a LightningModule, a LightningDataModule and a callback that records what it saw."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class BoringDataModule(L.LightningDataModule):
    """Two Gaussian blobs in ``dim`` dimensions: linearly separable, so accuracy rises."""

    def __init__(self, n: int = 256, dim: int = 8, batch_size: int = 32) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        y = torch.randint(0, 2, (n,), generator=g)
        x = torch.randn(n, dim, generator=g) + (2 * y[:, None] - 1).float()
        cut = int(n * 0.75)
        self.train_set = TensorDataset(x[:cut], y[:cut])
        self.val_set = TensorDataset(x[cut:], y[cut:])
        self.batch_size = batch_size

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.batch_size)

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader()


class BoringModule(L.LightningModule):
    """A linear classifier that logs ``train/loss``, ``val/loss`` and ``val/acc``."""

    def __init__(self, dim: int = 8, lr: float = 0.1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = nn.Linear(dim, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train/loss", loss, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        logits = self(x)
        self.log("val/loss", nn.functional.cross_entropy(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def test_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("test/acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class TinyNet(nn.Module):
    """A plain nn.Module with constructor arguments, for ``model.class_path``."""

    def __init__(self, in_features: int = 64, num_classes: int = 10, width: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(in_features, width), nn.ReLU(), nn.Linear(width, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class RecordingCallback(L.Callback):
    """Counts optimizer steps seen and records, inside the forward pass, whether autocast
    was on and at which dtype: proof that a precision setting took effect."""

    instances: list[RecordingCallback] = []

    def __init__(self, tag: str = "") -> None:
        self.tag = tag
        self.train_batches = 0
        self.autocast: list[tuple[bool, torch.dtype]] = []
        RecordingCallback.instances.append(self)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self.train_batches += 1

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
            if module.training:
                self.autocast.append((torch.is_autocast_enabled("cpu"), output.dtype))

        first_linear = next(m for m in pl_module.modules() if isinstance(m, nn.Linear))
        first_linear.register_forward_hook(hook)
