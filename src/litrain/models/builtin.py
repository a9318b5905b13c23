"""Small built-in networks. Each factory is ``(input_shape, num_outputs, cfg) -> nn.Module``."""

from __future__ import annotations

import math

import torch
from torch import nn

from litrain.config import ModelConfig
from litrain.errors import ConfigError


def _head(features: int, outputs: int, dropout: float) -> nn.Module:
    return (
        nn.Sequential(nn.Dropout(dropout), nn.Linear(features, outputs))
        if dropout
        else nn.Linear(features, outputs)
    )


def mlp(input_shape: tuple[int, ...], num_outputs: int, cfg: ModelConfig) -> nn.Module:
    """Flatten, then Linear-ReLU per ``model.hidden`` width, then the head."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(input_shape)
    for h in cfg.hidden:
        layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
        width = h
    layers.append(_head(width, num_outputs, cfg.dropout))
    return nn.Sequential(*layers)


def cnn(input_shape: tuple[int, ...], num_outputs: int, cfg: ModelConfig) -> nn.Module:
    """Three conv-BN-ReLU blocks (32, 64, 128 channels), pooling between, global average
    pool, head. Works on (C, H, W) images and (C, L) signals (1-D convs)."""
    if len(input_shape) not in (2, 3):
        raise ConfigError(
            f"cnn needs (C, L) signals or (C, H, W) images, got samples of shape {input_shape}: use mlp"
        )
    two_d = len(input_shape) == 3
    conv, bn, pool = (
        (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d) if two_d else (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d)
    )
    gap = nn.AdaptiveAvgPool2d(1) if two_d else nn.AdaptiveAvgPool1d(1)
    c = cfg.in_chans or input_shape[0]
    layers: list[nn.Module] = []
    for i, width in enumerate((32, 64, 128)):
        layers += [conv(c, width, 3, padding=1, bias=False), bn(width), nn.ReLU(inplace=True)]
        if i < 2 and min(input_shape[1:]) >= 2 ** (i + 2):  # keep >= 2 px for tiny inputs
            layers.append(pool(2))
        c = width
    layers += [gap, nn.Flatten(), _head(c, num_outputs, cfg.dropout)]
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet for 32x32 inputs: a 3x3 stem without max-pool, four stages of BasicBlocks."""

    def __init__(self, blocks: list[int], in_chans: int, num_outputs: int, dropout: float) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True)
        )
        stages, cin = [], 64
        for i, (n, cout) in enumerate(zip(blocks, (64, 128, 256, 512), strict=True)):
            for j in range(n):
                stages.append(BasicBlock(cin, cout, 2 if (j == 0 and i > 0) else 1))
                cin = cout
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = _head(512, num_outputs, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))))


def _resnet(blocks: list[int], input_shape: tuple[int, ...], num_outputs: int, cfg: ModelConfig) -> nn.Module:
    if len(input_shape) != 3:
        raise ConfigError(f"{cfg.name} needs (C, H, W) images, got samples of shape {input_shape}")
    return CifarResNet(blocks, cfg.in_chans or input_shape[0], num_outputs, cfg.dropout)


def resnet18_cifar(input_shape: tuple[int, ...], num_outputs: int, cfg: ModelConfig) -> nn.Module:
    return _resnet([2, 2, 2, 2], input_shape, num_outputs, cfg)


def resnet34_cifar(input_shape: tuple[int, ...], num_outputs: int, cfg: ModelConfig) -> nn.Module:
    return _resnet([3, 4, 6, 3], input_shape, num_outputs, cfg)
