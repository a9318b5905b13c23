"""``finetune.prune``: weight pruning for both engines (docs/finetuning.md#pruning).

The masks come from ``torch.nn.utils.prune`` (global L1 over all prunable layers, or the L2
norm of each layer's output channels) and are made permanent at once (``prune.remove``): the
pruned weights are zeroed in the parameter itself, and an optimizer post-step hook zeroes
them again after every step. So the state dict keeps its names (no ``weight_orig`` /
``weight_mask``), every checkpoint and export holds the sparse weights, and a resumed run
finds its masks in the weights (a pruned weight is exactly zero).

The model's last prunable layer (the output layer) is left whole: pruning its channels
would remove classes or output fields.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune

from litrain.config import PruneConfig

PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def prunable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers pruning touches: every Linear / Conv but the last one (the output layer)."""
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, PRUNABLE)]
    return layers[:-1]


def target_sparsity(cfg: PruneConfig, epoch: int) -> float:
    """The fraction pruned by the start of ``epoch``: all of it at once, or the cubic ramp of
    gradual pruning (Zhu & Gupta, 2017), which prunes most while the network has the most
    redundant weights and less as it approaches the final amount."""
    if cfg.schedule == "once":
        return cfg.amount
    progress = min(1.0, (epoch + 1) / cfg.ramp_epochs)
    return cfg.amount * (1.0 - (1.0 - progress) ** 3)


class Pruner:
    """Prunes ``model`` at each epoch's start to the schedule's sparsity and keeps the pruned
    weights at zero after every optimizer step (:meth:`attach`)."""

    def __init__(self, model: nn.Module, cfg: PruneConfig) -> None:
        self.cfg = cfg
        self.layers = prunable_layers(model)
        if not self.layers:
            from litrain.errors import ConfigError

            raise ConfigError(
                "finetune.prune: the model has no Linear or Conv layer besides its output layer to prune"
            )
        self.masks: list[torch.Tensor] | None = None  # set at each epoch's start

    @property
    def line(self) -> str:
        kind = "the channels of each layer" if self.cfg.structured == "channels" else "weights (global L1)"
        return (
            f"prune: {self.cfg.amount:.0%} of {kind} in {len(self.layers)} layers, "
            f"{'once' if self.cfg.schedule == 'once' else f'over {self.cfg.ramp_epochs} epochs'}; "
            "the output layer is kept whole"
        )

    def start_epoch(self, epoch: int) -> None:
        """Prune to the schedule's sparsity for ``epoch`` (nothing when it is reached already,
        as after a resume inside the epoch: the same weights give the same masks), and take
        the masks the steps keep from the weights, before any step moves a pruned one."""
        target = target_sparsity(self.cfg, epoch)
        if target > 0 and self.sparsity() < target - 1e-9:
            if self.cfg.structured == "channels":
                for _, m in self.layers:
                    prune.ln_structured(m, "weight", amount=target, n=2, dim=0)
            else:
                layers = [(m, "weight") for _, m in self.layers]
                prune.global_unstructured(layers, pruning_method=prune.L1Unstructured, amount=target)
            for _, m in self.layers:
                prune.remove(m, "weight")  # permanent: the zeros live in the parameter
        self.masks = [m.weight.detach() != 0 for _, m in self.layers]

    @torch.no_grad()
    def apply(self) -> None:
        """Zero the pruned weights again (an optimizer step moved them)."""
        if self.masks is None:  # no epoch started yet: nothing pruned
            return
        for (_, m), mask in zip(self.layers, self.masks, strict=True):
            m.weight.mul_(mask)

    def attach(self, optimizer: torch.optim.Optimizer) -> Any:
        """Re-apply the masks after every step of ``optimizer``; returns the hook's handle."""
        return optimizer.register_step_post_hook(lambda *_: self.apply())

    def sparsity(self) -> float:
        """The fraction of the prunable weights that are zero."""
        zeros = sum(int((m.weight == 0).sum()) for _, m in self.layers)
        total = sum(m.weight.numel() for _, m in self.layers)
        return zeros / total
