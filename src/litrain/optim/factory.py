"""Optimizers and learning-rate schedules from config, shared by both engines.

Every schedule except plateau is one LambdaLR stepped once per optimizer step, so warmup
and decay are smooth and identical in both engines; plateau is ReduceLROnPlateau stepped
per epoch on its monitor, with warmup as a chainable per-step LinearLR.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, LinearLR, LRScheduler, OneCycleLR, ReduceLROnPlateau

from litrain.config import OptimConfig


@dataclass
class ScheduleSpec:
    scheduler: LRScheduler | ReduceLROnPlateau
    interval: str  # "step" or "epoch"
    monitor: str | None = None


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: OptimConfig) -> Optimizer:
    lr = 1e-3 if cfg.lr == "auto" else float(cfg.lr)  # auto: the LR finder sets it later
    if cfg.name == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=cfg.momentum, nesterov=cfg.nesterov, weight_decay=cfg.weight_decay
        )
    cls = torch.optim.Adam if cfg.name == "adam" else torch.optim.AdamW
    return cls(params, lr=lr, weight_decay=cfg.weight_decay)


def build_schedulers(
    optimizer: Optimizer, cfg: OptimConfig, steps_per_epoch: int, total_steps: int
) -> list[ScheduleSpec]:
    """Schedules for a run of ``total_steps`` optimizer steps, ``steps_per_epoch`` each epoch."""
    s = cfg.scheduler
    spe = max(1, steps_per_epoch)
    total = max(1, total_steps)
    warmup = round(s.warmup_epochs * spe)
    if s.name == "none" and not warmup:
        return []
    if s.name == "onecycle":
        lr = optimizer.param_groups[0]["lr"]
        pct = warmup / total if warmup else 0.3
        return [ScheduleSpec(OneCycleLR(optimizer, max_lr=lr, total_steps=total, pct_start=pct), "step")]
    if s.name == "plateau":
        specs = [
            ScheduleSpec(
                ReduceLROnPlateau(
                    optimizer,
                    mode="min" if "loss" in s.monitor else "max",
                    factor=s.gamma,
                    patience=s.patience,
                ),
                "epoch",
                s.monitor,
            )
        ]
        if warmup:
            specs.insert(0, ScheduleSpec(LinearLR(optimizer, 1.0 / (warmup + 1), 1.0, warmup), "step"))
        return specs
    base_lr = optimizer.param_groups[0]["lr"]
    min_ratio = s.min_lr / base_lr if base_lr else 0.0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if s.name == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
        epoch = step // spe
        if s.name == "step":
            return s.gamma ** (epoch // s.step_size)
        if s.name == "multistep":
            return s.gamma ** sum(epoch >= m for m in s.milestones)
        return 1.0

    return [ScheduleSpec(LambdaLR(optimizer, factor), "step")]
