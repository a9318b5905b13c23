"""Optimizers by name (``optim.name``), shared by both engines.

Each optimizer is one function ``(params, OptimConfig) -> Optimizer`` registered in
``litrain.optim``; ``build_optimizer`` looks the name up. Adding one is a function here and
a registration line there."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim import Optimizer

from litrain.config import OptimConfig
from litrain.registry import OPTIMIZERS

Params = Iterable[torch.nn.Parameter]


def base_lr(cfg: OptimConfig) -> float:
    """The starting learning rate; ``auto`` starts at 1e-3 until the LR finder sets it."""
    return 1e-3 if cfg.lr == "auto" else float(cfg.lr)


def sgd(params: Params, cfg: OptimConfig) -> Optimizer:
    return torch.optim.SGD(
        params, lr=base_lr(cfg), momentum=cfg.momentum, nesterov=cfg.nesterov, weight_decay=cfg.weight_decay
    )


def adam(params: Params, cfg: OptimConfig) -> Optimizer:
    return torch.optim.Adam(params, lr=base_lr(cfg), weight_decay=cfg.weight_decay)


def adamw(params: Params, cfg: OptimConfig) -> Optimizer:
    return torch.optim.AdamW(params, lr=base_lr(cfg), weight_decay=cfg.weight_decay)


def build_optimizer(params: Params, cfg: OptimConfig) -> Optimizer:
    """The optimizer ``optim.name`` names, over ``params``."""
    return OPTIMIZERS.get(cfg.name)(params, cfg)
