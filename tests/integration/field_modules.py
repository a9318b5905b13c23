"""A tiny field-to-field model for the regression tests (``model.class_path``)."""

from __future__ import annotations

import torch
from torch import nn


class FieldConv(nn.Module):
    """(N, C_in, L) -> (N, out_channels, L): two 1-D convolutions, the grid kept."""

    def __init__(self, in_channels: int = 2, out_channels: int = 2, width: int = 8) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(in_channels, width, 3, padding=1),
            nn.Tanh(),
            nn.Conv1d(width, out_channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
