"""The freezing policy (``finetune.strategy``), shared by both engines.

Which block groups train is decided at epoch boundaries only, from the epoch number (head_only,
epochs, gradual) or from the monitored metric (adaptive), so every rank decides the same. A
frozen group is frozen without touching ``requires_grad`` or the optimizer's groups (DDP
needs every parameter used, and a resumed run must rebuild the same optimizer):

- ``before_step``, called after the gradients are final (DDP: all-reduced) and before
  clipping and the optimizer step: a frozen group's gradients are set to None, so the
  optimizer skips its parameters (no update, no weight decay, no moment or step count), and
  its lr is 0 for this step. adaptive first folds each frozen group's gradient norm into a
  moving average (``gradient_momentum``), the measure of which group to unfreeze next.
- a step post-hook on the optimizer (``attach``) puts the lr back, so the schedules see and
  scale the group's real lr, and it trains at its scheduled lr once unfrozen.

Block depth 0 is the head (always trained), 1 the top backbone group, and so on (the ``block``
key of each param group, ``litrain.optim.param_groups``). ``state_dict`` holds what a resumed
run needs to decide the same (adaptive's unfrozen set, best value, patience count, averages).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from litrain.config import FinetuneConfig


class FreezePolicy:
    def __init__(
        self, cfg: FinetuneConfig, names: list[str], norms: list[list[nn.Module]], mode: str
    ) -> None:
        """``names`` and ``norms`` (each group's BatchNorm layers) by depth: head first."""
        self.cfg, self.names, self.norms, self.mode = cfg, names, norms, mode
        self.depth = len(names)
        self.unfrozen: list[bool] = [self._deterministic(0, d) for d in range(self.depth)]
        self.best: float | None = None
        self.bad_epochs = 0
        self.grad_ema = torch.zeros(self.depth)
        self._saved_lr: list[tuple[dict[str, Any], float]] = []

    # ------------------------------------------------------------------ decisions
    def _deterministic(self, epoch: int, depth: int) -> bool:
        s, c = self.cfg.strategy, self.cfg
        if depth == 0 or s == "none":
            return True
        if s in ("head_only", "adaptive"):
            return False
        if epoch < c.unfreeze_at_epoch:
            return False
        if s == "epochs":
            return True
        return depth <= (epoch - c.unfreeze_at_epoch) // c.every_epochs + 1  # gradual

    def start_epoch(self, epoch: int) -> list[str]:
        """Set the groups that train in ``epoch``; returns the names unfrozen just now."""
        before = list(self.unfrozen)
        if self.cfg.strategy != "adaptive":
            self.unfrozen = [self._deterministic(epoch, d) for d in range(self.depth)]
        return [n for n, was, now in zip(self.names, before, self.unfrozen, strict=True) if now and not was]

    def end_epoch(self, value: float | None) -> str | None:
        """adaptive: after the epoch's validation, with the monitored metric (rank-synced);
        unfreezes the frozen group with the largest gradient-norm average after
        ``adaptive_patience`` epochs without improvement. Returns its name, else None."""
        if self.cfg.strategy != "adaptive" or value is None or math.isnan(value):
            return None
        better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
        if better:
            self.best, self.bad_epochs = value, 0
            return None
        self.bad_epochs += 1
        frozen = [d for d in range(self.depth) if not self.unfrozen[d]]
        if self.bad_epochs < self.cfg.adaptive_patience or not frozen:
            return None
        ema = self.grad_ema.tolist()
        pick = max(frozen, key=lambda d: (ema[d], -d))  # a tie goes to the higher group
        self.unfrozen[pick] = True
        self.bad_epochs = 0
        return self.names[pick]

    @property
    def unfrozen_count(self) -> int:
        return sum(self.unfrozen)

    # ------------------------------------------------------------------ per step
    def attach(self, optimizer: Optimizer) -> None:
        """Register the post-step hook that puts frozen groups' lr back."""
        optimizer.register_step_post_hook(lambda opt, args, kwargs: self._restore_lr())

    @torch.no_grad()
    def before_step(self, optimizer: Optimizer) -> None:
        """Freeze the frozen groups for this step (see the module docstring)."""
        frozen = [g for g in optimizer.param_groups if not self.unfrozen[g.get("block", 0)]]
        if not frozen:
            return
        if self.cfg.strategy == "adaptive":
            self._track_norms(frozen)
        for g in frozen:
            for p in g["params"]:
                p.grad = None
            self._saved_lr.append((g, g["lr"]))
            g["lr"] = 0.0 if not isinstance(g["lr"], torch.Tensor) else torch.zeros_like(g["lr"])

    def _track_norms(self, frozen: list[dict[str, Any]]) -> None:
        """Fold each frozen group's gradient norm into its average, on the gradients' device
        (no host sync per step)."""
        m = self.cfg.gradient_momentum
        for d in sorted({g["block"] for g in frozen}):
            grads = [p.grad for g in frozen if g["block"] == d for p in g["params"] if p.grad is not None]
            if not grads:
                continue
            if self.grad_ema.device != grads[0].device:
                self.grad_ema = self.grad_ema.to(grads[0].device)
            norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)).float())
            self.grad_ema[d] = m * self.grad_ema[d] + (1 - m) * norm

    def _restore_lr(self) -> None:
        for g, lr in self._saved_lr:
            g["lr"] = lr
        self._saved_lr = []

    def freeze_batchnorm(self) -> None:
        """``finetune.train_bn: false``, called in training mode: frozen groups' BatchNorm layers
        in eval mode, so their running statistics stay put too, and unfrozen ones in train
        mode (Lightning restores each module's own mode after validation, so a layer set to
        eval stays there until put back)."""
        if self.cfg.train_bn:
            return
        for d, norms in enumerate(self.norms):
            for m in norms:
                if m.training != self.unfrozen[d]:
                    m.train(self.unfrozen[d])

    # ------------------------------------------------------------------ resume
    def state_dict(self) -> dict[str, Any]:
        return {
            "unfrozen": list(self.unfrozen),
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "grad_ema": self.grad_ema.detach().cpu().clone(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.unfrozen = [bool(u) for u in state["unfrozen"]]
        self.best = state["best"]
        self.bad_epochs = int(state["bad_epochs"])
        self.grad_ema = state["grad_ema"].clone().float()

    def line(self) -> str:
        """The groups and which train now, for the run's log."""
        marks = [f"{n}{'' if u else ' (frozen)'}" for n, u in zip(self.names, self.unfrozen, strict=True)]
        return f"finetune {self.cfg.strategy}: block groups head first: {', '.join(marks)}"
