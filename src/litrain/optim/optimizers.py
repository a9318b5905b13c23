"""Optimizers by name (``optim.name``), shared by both engines.

Each optimizer is one function ``(params, OptimConfig) -> Optimizer`` registered in
``litrain.optim``; ``build_optimizer`` looks the name up. Adding one is a function here and
a registration line there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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


def radam(params: Params, cfg: OptimConfig) -> Optimizer:
    # torch's defaults throughout: weight_decay is L2 in the gradient, as for adam
    return torch.optim.RAdam(params, lr=base_lr(cfg), weight_decay=cfg.weight_decay)


def nadam(params: Params, cfg: OptimConfig) -> Optimizer:
    return torch.optim.NAdam(params, lr=base_lr(cfg), weight_decay=cfg.weight_decay)


def rmsprop(params: Params, cfg: OptimConfig) -> Optimizer:
    # torch's defaults (alpha 0.99, no momentum): optim.momentum is sgd's
    return torch.optim.RMSprop(params, lr=base_lr(cfg), weight_decay=cfg.weight_decay)


def adagrad(params: Params, cfg: OptimConfig) -> Optimizer:
    return torch.optim.Adagrad(params, lr=base_lr(cfg), weight_decay=cfg.weight_decay)


def build_optimizer(
    model: torch.nn.Module | Params,
    cfg: OptimConfig,
    groups: list[dict[str, Any]] | None = None,
) -> Optimizer:
    """The optimizer ``optim.name`` names, over ``model``'s parameters (or over ``params``
    given as such), or over ``groups`` (``litrain.optim.param_groups``: one per block group
    and weight-decay class, each with its own lr and weight decay) when given. A builder
    marked ``takes_module`` (muon, which splits the parameters by layer) gets the module itself."""
    builder = OPTIMIZERS.get(cfg.name)
    if groups is not None and not getattr(builder, "takes_module", False):
        return builder(groups, cfg)  # each group's own lr / weight_decay win over the defaults
    if not getattr(builder, "takes_module", False):
        return builder(model.parameters() if isinstance(model, torch.nn.Module) else model, cfg)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"optimizer {cfg.name} splits parameters by layer: pass the model, not its parameters"
        )
    return builder(model, cfg)


def optimizer_note(model: torch.nn.Module, cfg: OptimConfig) -> str | None:
    """The line a run logs at start about how ``optim.name`` treats ``model``'s parameters
    (muon: which go to Muon, which to AdamW); None for the others."""
    describe = getattr(OPTIMIZERS.get(cfg.name), "describe", None)
    return describe(model) if describe else None
