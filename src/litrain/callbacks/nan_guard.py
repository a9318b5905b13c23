"""Non-finite loss or gradients, caught on the step they happen (``trainer.nan_policy``).

One check per optimizer step, just before the optimizer runs: the 2-norm of every gradient
and the loss go into one tensor and one ``isfinite`` read (the only host sync it adds; see
``litrain.engine.finite``, which resolves a norm that overflowed on finite values). The
gradients are already all-reduced under DDP, so every rank reaches the same verdict without
an extra collective. Under fp16 mixed precision the GradScaler already skips overflowing
steps, so only the loss is checked there.

- ``stop``: write ``checkpoints/debug/nonfinite-step=N.ckpt`` (the weights before the bad
  step) and end with a message naming the step and the first non-finite parameter/gradient.
- ``skip``: drop the step (gradients set to None, so the optimizer leaves every parameter and
  its state untouched) and count it in ``train/skipped_steps``.
- ``rollback``: reload weights and optimizer state from the newest valid checkpoint, scale
  the learning rate by ``trainer.nan_lr_factor`` and go on; after MAX_ROLLBACKS, stop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
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


class NaNGuard(L.Callback):
    def __init__(
        self, policy: str = "stop", ckpt_dir: str | Path = "checkpoints", lr_factor: float = 0.5
    ) -> None:
        if policy not in ("stop", "skip", "rollback"):
            raise ValueError(f"nan_policy must be stop, skip or rollback, got {policy!r}")
        self.policy, self.ckpt_dir, self.lr_factor = policy, Path(ckpt_dir), lr_factor
        self.skipped = 0
        self.rollbacks = 0
        self.lr_scale = 1.0
        self._loss: torch.Tensor | None = None
        self._params: list[torch.nn.Parameter] = []

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Walking pl_module.parameters() each step also walks every metric submodule: once.
        self._params = list(pl_module.parameters())

    def state_dict(self) -> dict[str, Any]:
        return {"skipped": self.skipped, "rollbacks": self.rollbacks, "lr_scale": self.lr_scale}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.skipped = int(state_dict.get("skipped", 0))
        self.rollbacks = int(state_dict.get("rollbacks", 0))
        self.lr_scale = float(state_dict.get("lr_scale", 1.0))

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        # Accumulation micro-batches add up; only finiteness matters, so a sum is enough.
        loss = loss.detach().float()
        self._loss = loss if self._loss is None else self._loss + loss

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        loss, self._loss = self._loss, None
        if self._finite(trainer, pl_module, loss):
            return
        step = trainer.global_step
        where = first_nonfinite(pl_module)
        what = (
            f"non-finite loss ({float(loss):g})"
            if loss is not None and not torch.isfinite(loss)
            else "non-finite gradients"
        )
        if self.policy == "skip":
            _drop_gradients(optimizer)
            self.skipped += 1
            L.pytorch.utilities.rank_zero_warn(
                f"{what} at step {step} ({where}): step skipped ({self.skipped} so far)"
            )
        elif self.policy == "rollback" and self.rollbacks < MAX_ROLLBACKS:
            self._rollback(trainer, pl_module, optimizer, f"{what} at step {step} ({where})")
        else:
            self._stop(trainer, step, what, where)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.policy == "skip" and self.skipped:
            pl_module.log("train/skipped_steps", float(self.skipped), on_step=True, on_epoch=False)

    def _finite(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor | None) -> bool:
        from litrain.engine.finite import all_finite

        scaler = getattr(trainer.precision_plugin, "scaler", None)
        params = self._params or list(pl_module.parameters())
        grads = [] if scaler is not None else [p.grad for p in params if p.grad is not None]
        return all_finite(grads, loss)

    def _stop(self, trainer: L.Trainer, step: int, what: str, where: str) -> None:
        debug = self.ckpt_dir / "debug" / f"nonfinite-step={step}.ckpt"
        trainer.save_checkpoint(debug)
        tried = f" after {self.rollbacks} rollbacks" if self.rollbacks else ""
        raise NonFiniteError(
            f"{what} at step {step} (epoch {trainer.current_epoch}){tried}; first non-finite: "
            f"{where}. Weights before this step: {debug}. Lower optim.lr, set "
            "trainer.gradient_clip_val, or set trainer.nan_policy=skip|rollback"
        )

    def _rollback(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer, what: str
    ) -> None:
        from litrain import atomic

        good = atomic.newest_valid(self.ckpt_dir)
        if good is None:
            self.rollbacks = MAX_ROLLBACKS  # nothing to roll back to: stop instead
            self._stop(trainer, trainer.global_step, what, "no checkpoint to roll back to yet")
        ckpt = atomic.safe_load(good)
        pl_module.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["optimizer_states"][0])
        self.rollbacks += 1
        self.lr_scale *= self.lr_factor
        for group in optimizer.param_groups:
            # The checkpoint brought back its own lr; scale the configured one instead (a
            # scheduler overwrites this from its base_lrs at its next step anyway).
            base = group.get("initial_lr")
            group["lr"] = base * self.lr_scale if base is not None else group["lr"] * self.lr_factor
        for cfg in trainer.lr_scheduler_configs:
            sched = cfg.scheduler
            if hasattr(sched, "base_lrs"):
                sched.base_lrs = [lr * self.lr_factor for lr in sched.base_lrs]
        _drop_gradients(optimizer)
        L.pytorch.utilities.rank_zero_warn(
            f"{what}: rolled back to {good}, learning rate x{self.lr_scale:g} "
            f"(rollback {self.rollbacks} of {MAX_ROLLBACKS})"
        )


def _drop_gradients(optimizer: torch.optim.Optimizer) -> None:
    """Optimizers skip parameters whose grad is None: no update, no state change, no decay."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None
