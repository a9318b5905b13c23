"""Learning-rate schedules by name (``optim.scheduler.name``), shared by both engines.

Every schedule except plateau is one LambdaLR stepped once per optimizer step, so warmup
and decay are smooth and identical in both engines; plateau is ReduceLROnPlateau stepped
per epoch on its monitor, with warmup as a chainable per-step LinearLR.

A schedule is one function ``(optimizer, OptimConfig, Steps) -> [ScheduleSpec]`` registered
in ``litrain.optim``; ``build_schedulers`` looks the name up. Step-wise schedules express
their decay as a factor of the step after warmup through :func:`lambda_schedule`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, LinearLR, LRScheduler, OneCycleLR, ReduceLROnPlateau

from litrain.config import OptimConfig
from litrain.registry import SCHEDULERS


@dataclass
class ScheduleSpec:
    scheduler: LRScheduler | ReduceLROnPlateau
    interval: str  # "step" or "epoch"
    monitor: str | None = None


@dataclass(frozen=True)
class Steps:
    """The run's length in optimizer steps; every value is at least 1."""

    per_epoch: int
    total: int
    warmup: int  # linear warmup steps (optim.scheduler.warmup_epochs * per_epoch)


def lambda_schedule(optimizer: Optimizer, steps: Steps, decay: Callable[[int], float]) -> list[ScheduleSpec]:
    """One LambdaLR: linear warmup over ``steps.warmup`` steps, then ``decay(step)``."""
    warmup = steps.warmup

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return decay(step)

    return [ScheduleSpec(LambdaLR(optimizer, factor), "step")]


def none(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """A constant learning rate (after warmup, when there is one)."""
    if not steps.warmup:
        return []
    return lambda_schedule(optimizer, steps, lambda step: 1.0)


def cosine(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """Half a cosine from the base lr to ``min_lr`` over the steps after warmup."""
    base_lr = optimizer.param_groups[0]["lr"]
    min_ratio = cfg.scheduler.min_lr / base_lr if base_lr else 0.0
    warmup, total = steps.warmup, steps.total

    def decay(step: int) -> float:
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return lambda_schedule(optimizer, steps, decay)


def step(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """Multiply by ``gamma`` every ``step_size`` epochs."""
    s, spe = cfg.scheduler, steps.per_epoch
    return lambda_schedule(optimizer, steps, lambda i: s.gamma ** ((i // spe) // s.step_size))


def multistep(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """Multiply by ``gamma`` at each epoch of ``milestones``."""
    s, spe = cfg.scheduler, steps.per_epoch
    return lambda_schedule(optimizer, steps, lambda i: s.gamma ** sum(i // spe >= m for m in s.milestones))


def onecycle(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """OneCycleLR peaking at the base lr; warmup, when set, is its rising phase."""
    lrs = [g["lr"] for g in optimizer.param_groups]  # per group: finetune's lr multipliers stay
    pct = steps.warmup / steps.total if steps.warmup else 0.3
    return [ScheduleSpec(OneCycleLR(optimizer, max_lr=lrs, total_steps=steps.total, pct_start=pct), "step")]


def plateau(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """ReduceLROnPlateau on ``monitor`` once per epoch, after a per-step linear warmup."""
    s = cfg.scheduler
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
    if steps.warmup:
        warmup = steps.warmup
        specs.insert(0, ScheduleSpec(LinearLR(optimizer, 1.0 / (warmup + 1), 1.0, warmup), "step"))
    return specs


def build_schedulers(
    optimizer: Optimizer, cfg: OptimConfig, steps_per_epoch: int, total_steps: int
) -> list[ScheduleSpec]:
    """Schedules for a run of ``total_steps`` optimizer steps, ``steps_per_epoch`` each epoch."""
    spe = max(1, steps_per_epoch)
    steps = Steps(per_epoch=spe, total=max(1, total_steps), warmup=round(cfg.scheduler.warmup_epochs * spe))
    return SCHEDULERS.get(cfg.scheduler.name)(optimizer, cfg, steps)


def _min_ratio(optimizer: Optimizer, cfg: OptimConfig) -> float:
    base_lr = optimizer.param_groups[0]["lr"]
    return cfg.scheduler.min_lr / base_lr if base_lr else 0.0


def _progress(step: int, steps: Steps) -> float:
    """How far ``step`` is through the steps after warmup, 0 to 1."""
    return min(1.0, (step - steps.warmup) / max(1, steps.total - steps.warmup))


def cosine_restarts(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """torch's CosineAnnealingWarmRestarts (eta_min = ``min_lr``) counted in optimizer steps
    after warmup: the first cycle lasts ``T_0`` epochs, each next one ``T_mult`` times longer.
    A LambdaLR of its closed form, so warmup and resume work as for every other schedule."""
    s, min_ratio = cfg.scheduler, _min_ratio(optimizer, cfg)
    first = s.T_0 * steps.per_epoch

    def decay(step: int) -> float:
        t, cycle = step - steps.warmup, first
        while t >= cycle:  # a handful of cycles at most: exact, unlike a log
            t, cycle = t - cycle, cycle * s.T_mult
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * t / cycle))

    return lambda_schedule(optimizer, steps, decay)


def linear(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """A straight line from the base lr to ``min_lr`` over the steps after warmup."""
    min_ratio = _min_ratio(optimizer, cfg)
    return lambda_schedule(optimizer, steps, lambda i: 1 - (1 - min_ratio) * _progress(i, steps))


def polynomial(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """``min_lr + (lr - min_lr) * (1 - progress) ** power`` over the steps after warmup
    (power 1 is linear)."""
    min_ratio, power = _min_ratio(optimizer, cfg), cfg.scheduler.power
    return lambda_schedule(
        optimizer, steps, lambda i: min_ratio + (1 - min_ratio) * (1 - _progress(i, steps)) ** power
    )


def exponential(optimizer: Optimizer, cfg: OptimConfig, steps: Steps) -> list[ScheduleSpec]:
    """Multiply by ``gamma`` once per epoch (torch's ExponentialLR stepped per epoch)."""
    gamma, spe = cfg.scheduler.gamma, steps.per_epoch
    return lambda_schedule(optimizer, steps, lambda i: gamma ** (i // spe))
