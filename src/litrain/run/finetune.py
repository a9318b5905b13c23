"""Finetuning's parts for both engines: the optimizer's param groups and the freezing policy,
both from the same block groups of the model (``litrain.models.blocks``), and the lines a run
logs about them at its start."""

from __future__ import annotations

from typing import Any

from torch import nn

from litrain.config import Config
from litrain.models.blocks import block_groups
from litrain.optim.freezing import FreezePolicy
from litrain.optim.param_groups import groups_line, param_groups, whole_model
from litrain.optim.pruning import Pruner


def optimizer_groups(model: nn.Module, cfg: Config) -> list[dict[str, Any]] | None:
    """The param groups ``finetune`` and ``optim.no_decay`` ask for; None: the optimizer
    takes ``model.parameters()`` as one group, as without them."""
    if cfg.finetune.active:
        blocks = block_groups(model)
    elif cfg.optim.no_decay:
        blocks = whole_model(model)
    else:
        return None
    return param_groups(model, blocks, cfg.optim, cfg.finetune)


def freeze_policy(model: nn.Module, cfg: Config) -> FreezePolicy | None:
    """The policy for ``finetune.strategy`` (None: nothing is ever frozen)."""
    ft = cfg.finetune
    if ft.strategy == "none":
        return None
    blocks = list(reversed(block_groups(model)))  # head first: index = depth
    mode = ft.mode if ft.mode != "auto" else ("min" if "loss" in ft.monitor else "max")
    return FreezePolicy(ft, [b.name for b in blocks], [b.norms for b in blocks], mode)


def start_lines(model: nn.Module, cfg: Config) -> list[str]:
    """What a run logs at its start: the block groups and which are frozen, the param groups,
    what pruning does."""
    lines = [pruner(model, cfg).line] if cfg.finetune.prune.enabled else []  # type: ignore[union-attr]
    groups = optimizer_groups(model, cfg)
    if groups is None or cfg.optim.name == "muon":
        return lines
    policy = freeze_policy(model, cfg)
    return lines + ([policy.line()] if policy is not None else []) + [groups_line(groups)]


def pruner(model: nn.Module, cfg: Config) -> Pruner | None:
    """The pruner of ``finetune.prune`` (None: no pruning)."""
    return Pruner(model, cfg.finetune.prune) if cfg.finetune.prune.enabled else None
