"""Users' own modules for ``model.class_path`` tests, sized for the digits data (1x8x8
images, 10 classes): plain nn.Modules and LightningModules without a predict_step."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn


class WideNet(nn.Module):
    """A classifier with a ``num_classes`` argument whose default (400, Kinetics-style) does
    not fit a 10-class task."""

    def __init__(self, num_classes: int = 400) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FixedNet(nn.Module):
    """400 outputs and no constructor argument to change them."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 400))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _DigitsSteps(L.LightningModule):
    """Training and validation steps on litrain's (x, y) batches; no predict_step."""

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self(x)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        return nn.functional.cross_entropy(self.logits(x), y)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val/acc", (self.logits(x).argmax(1) == y).float().mean())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


class DigitsLM(_DigitsSteps):
    """A LightningModule whose network is ``self.model`` (the prefix TaskModule uses too)."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Flatten(), nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class BatchForwardLM(_DigitsSteps):
    """A LightningModule whose forward takes the whole (x, y) batch: litrain cannot predict
    with it by forward alone."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(64, 10)

    def forward(self, batch: Any) -> torch.Tensor:
        x, _ = batch
        return self.layer(x.flatten(1))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self((x, None))
