"""What to do when a step's loss or gradients are NaN/Inf (``trainer.nan_policy``), shared by
both engines (Lightning: ``litrain.engines.lightning.callbacks.nan_guard``; native: ``litrain.engines.native.loop``).
Lightning-free.

The engine detects the bad step (``litrain.core.finite.all_finite``, one host read) just
before the optimizer would run, and calls :meth:`NonFinitePolicy.handle`:

- ``stop``: write ``<ckpt_dir>/debug/nonfinite-step=N.ckpt`` (the weights before the bad
  step) and raise :class:`NonFiniteError` naming the step and the first non-finite
  parameter/gradient.
- ``skip``: drop the step's gradients (optimizers leave a parameter with ``grad=None`` and
  its state untouched) and count it.
- ``rollback``: reload weights and optimizer state from the newest valid checkpoint, scale
  the learning rate by ``lr_factor`` and go on; after MAX_ROLLBACKS, stop.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from litrain.errors import LitrainError

MAX_ROLLBACKS = 3


class NonFiniteError(LitrainError):
    """Training produced NaN/Inf and the policy says stop."""


def first_nonfinite(module: torch.nn.Module) -> str:
    """'gradient of model.0.weight' or 'parameter ...' for the first non-finite tensor."""
    for name, p in module.named_parameters():
        if not torch.isfinite(p).all():
            return f"parameter {name}"
        if p.grad is not None and not torch.isfinite(p.grad).all():
            return f"gradient of {name}"
    return "no parameter or gradient (only the loss)"


def drop_gradients(optimizer: torch.optim.Optimizer) -> None:
    """Optimizers skip parameters whose grad is None: no update, no state change, no decay."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None


class NonFinitePolicy:
    """The policy and its counters (saved in checkpoints, so a resumed run keeps them)."""

    def __init__(
        self, policy: str = "stop", ckpt_dir: str | Path = "checkpoints", lr_factor: float = 0.5
    ) -> None:
        if policy not in ("stop", "skip", "rollback"):
            raise ValueError(f"nan_policy must be stop, skip or rollback, got {policy!r}")
        self.policy, self.ckpt_dir, self.lr_factor = policy, Path(ckpt_dir), lr_factor
        self.skipped = 0
        self.rollbacks = 0
        self.lr_scale = 1.0

    def state_dict(self) -> dict[str, Any]:
        return {"skipped": self.skipped, "rollbacks": self.rollbacks, "lr_scale": self.lr_scale}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.skipped = int(state_dict.get("skipped", 0))
        self.rollbacks = int(state_dict.get("rollbacks", 0))
        self.lr_scale = float(state_dict.get("lr_scale", 1.0))

    def handle(
        self,
        *,
        step: int,
        epoch: int,
        loss: torch.Tensor | None,
        module: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        schedulers: Sequence[Any],
        save_debug: Callable[[Path], None],
        load_good: Callable[[Path], None],
        warn: Callable[[str], None] = warnings.warn,
    ) -> None:
        """Apply the policy to the bad step ``step`` (raises NonFiniteError to stop).

        ``save_debug(path)`` writes the current state; ``load_good(path)`` loads weights and
        optimizer state from a checkpoint file."""
        where = first_nonfinite(module)
        what = (
            f"non-finite loss ({float(loss):g})"
            if loss is not None and not torch.isfinite(loss)
            else "non-finite gradients"
        )
        if self.policy == "skip":
            drop_gradients(optimizer)
            self.skipped += 1
            warn(f"{what} at step {step} ({where}): step skipped ({self.skipped} so far)")
            return
        if self.policy == "rollback" and self.rollbacks < MAX_ROLLBACKS:
            from litrain.checkpoint import store

            good = store.newest_valid(self.ckpt_dir)
            if good is not None:
                load_good(good)
                self._lower_lr(optimizer, schedulers)
                drop_gradients(optimizer)
                warn(
                    f"{what} at step {step} ({where}): rolled back to {good}, learning rate "
                    f"x{self.lr_scale:g} (rollback {self.rollbacks} of {MAX_ROLLBACKS})"
                )
                return
            where = "no checkpoint to roll back to yet"
        debug = self.ckpt_dir / "debug" / f"nonfinite-step={step}.ckpt"
        save_debug(debug)
        tried = f" after {self.rollbacks} rollbacks" if self.rollbacks else ""
        raise NonFiniteError(
            f"{what} at step {step} (epoch {epoch}){tried}; first non-finite: {where}. Weights "
            f"before this step: {debug}. Lower optim.lr, set trainer.gradient_clip_val, or set "
            "trainer.nan_policy=skip|rollback"
        )

    def _lower_lr(self, optimizer: torch.optim.Optimizer, schedulers: Sequence[Any]) -> None:
        self.rollbacks += 1
        self.lr_scale *= self.lr_factor
        for group in optimizer.param_groups:
            # The checkpoint brought back its own lr; scale the configured one instead (a
            # scheduler overwrites this from its base_lrs at its next step anyway).
            base = group.get("initial_lr")
            group["lr"] = base * self.lr_scale if base is not None else group["lr"] * self.lr_factor
        for sched in schedulers:
            if hasattr(sched, "base_lrs"):
                sched.base_lrs = [lr * self.lr_factor for lr in sched.base_lrs]
