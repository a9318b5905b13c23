"""The optimizer's param groups for finetuning and ``optim.no_decay``, shared by both engines.

One group per (block group, weight-decay class): the head's groups first (so
``param_groups[0]`` is at ``optim.lr``, which ``train/lr`` shows and the schedules read), then
the backbone's from the top down. Each group carries:

- ``lr_scale``: its lr multiplier. The head's is 1; the backbone group ``d`` levels below the
  head (d = 1 for the top one) has ``backbone_lr_ratio * layer_decay ** (d - 1)``. Its ``lr``
  (and so its schedule's ``initial_lr``) is ``optim.lr * lr_scale``; every schedule scales it.
- ``block``: that depth (0 for the head), which the freezing policy reads.
- ``weight_decay``: 0 for ``optim.no_decay`` parameters (biases, norm-layer weights).

Every parameter is in the optimizer from the first step; freezing never adds groups later.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from litrain.config import FinetuneConfig, OptimConfig
from litrain.core.blocks import BlockGroup
from litrain.optim.optimizers import base_lr

NORM_LAYERS = (
    nn.modules.batchnorm._BatchNorm,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.LocalResponseNorm,
    nn.RMSNorm,
)


def no_decay_ids(model: nn.Module, kinds: list[str]) -> set[int]:
    """ids of the parameters ``optim.no_decay`` exempts: ``bias`` (every parameter named
    bias) and ``norm`` (the weights of norm layers; timm's LayerNorm2d & co are subclasses)."""
    out: set[int] = set()
    for module in model.modules():
        for p_name, p in module.named_parameters(recurse=False):
            if ("bias" in kinds and p_name == "bias") or (
                "norm" in kinds and isinstance(module, NORM_LAYERS)
            ):
                out.add(id(p))
    return out


def lr_scale(depth: int, ft: FinetuneConfig) -> float:
    """The lr multiplier of the block group ``depth`` levels below the head (the head: 0)."""
    return 1.0 if depth == 0 else ft.backbone_lr_ratio * ft.layer_decay ** (depth - 1)


def param_groups(
    model: nn.Module, blocks: list[BlockGroup], cfg: OptimConfig, ft: FinetuneConfig
) -> list[dict[str, Any]]:
    """The groups described in the module docstring; ``blocks`` bottom first, head last."""
    exempt = no_decay_ids(model, cfg.no_decay)
    lr = base_lr(cfg)
    groups = []
    for depth, block in enumerate(reversed(blocks)):
        decay = [p for p in block.params if id(p) not in exempt]
        free = [p for p in block.params if id(p) in exempt]
        scale = lr_scale(depth, ft)
        for params, wd in ((decay, cfg.weight_decay), (free, 0.0)):
            if params:
                groups.append(
                    {
                        "params": params,
                        "lr": lr * scale,
                        "lr_scale": scale,
                        "weight_decay": wd,
                        "block": depth,
                        "block_name": block.name,
                        "no_decay": params is free,
                    }
                )
    return groups


def whole_model(model: nn.Module) -> list[BlockGroup]:
    """The model as one block (``optim.no_decay`` without finetuning)."""
    return [BlockGroup("model", list(model.parameters()))]


def groups_line(groups: list[dict[str, Any]]) -> str:
    """The param groups as one line for the run's log: name, lr, weight decay, tensors."""
    parts = [
        f"{g['block_name']}{' (no decay)' if g['no_decay'] else ''}: "
        f"lr {g['lr']:.3g}, wd {g['weight_decay']:g}, {len(g['params'])} tensors"
        for g in groups
    ]
    return f"optim param groups (head first): {'; '.join(parts)}"
