"""Lightning side of ``trainer.nan_policy`` (the policy itself: :mod:`litrain.reliability.nonfinite`).

One check per optimizer step, just before the optimizer runs: the 2-norm of every gradient
and the loss go into one tensor and one ``isfinite`` read (the only host sync it adds; see
``litrain.core.finite``). The gradients are already all-reduced under DDP, so every rank
reaches the same verdict without an extra collective. Under fp16 mixed precision the
GradScaler already skips overflowing steps, so only the loss is checked there.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
import torch

from litrain.core.noise import LitrainNotice
from litrain.engines.lightning.callbacks.ema import EMA
from litrain.reliability.nonfinite import MAX_ROLLBACKS, NonFiniteError, NonFinitePolicy

__all__ = ["MAX_ROLLBACKS", "NaNGuard", "NonFiniteError"]


class NaNGuard(NonFinitePolicy, L.Callback):
    def __init__(
        self, policy: str = "stop", ckpt_dir: str | Path = "checkpoints", lr_factor: float = 0.5
    ) -> None:
        super().__init__(policy, ckpt_dir, lr_factor)
        self._loss: torch.Tensor | None = None
        self._params: list[torch.nn.Parameter] = []
        # logging.grad_norm's TrainingMonitor (it runs first): its norms, on the steps it
        # measures, serve this check too
        self.monitor: Any = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Walking pl_module.parameters() each step also walks every metric submodule: once.
        self._params = list(pl_module.parameters())

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        # Accumulation micro-batches add up; only finiteness matters, so a sum is enough.
        loss = loss.detach().float()
        self._loss = loss if self._loss is None else self._loss + loss

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        from litrain.checkpoint.store import safe_load
        from litrain.core.finite import all_finite

        loss, self._loss = self._loss, None
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        params = self._params or list(pl_module.parameters())
        grads = [] if scaler is not None else [p.grad for p in params if p.grad is not None]
        measured, norms = getattr(self.monitor, "measured", None), None
        if measured is not None and scaler is None:
            grads, norms = measured
        if all_finite(grads, loss, norms):
            return

        def load_good(path: Path) -> None:
            ckpt = safe_load(path)
            pl_module.load_state_dict(ckpt["state_dict"])
            optimizer.load_state_dict(ckpt["optimizer_states"][0])
            for cb in trainer.callbacks:  # the EMA of the weights rolled back to, too
                if isinstance(cb, EMA):
                    cb.on_load_checkpoint(trainer, pl_module, ckpt)

        self.handle(
            step=trainer.global_step,
            epoch=trainer.current_epoch,
            loss=loss,
            module=pl_module,
            optimizer=optimizer,
            schedulers=[c.scheduler for c in trainer.lr_scheduler_configs],
            save_debug=trainer.save_checkpoint,
            load_good=load_good,
            warn=partial(L.pytorch.utilities.rank_zero_warn, category=LitrainNotice),
        )

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.policy == "skip" and self.skipped:
            pl_module.log("train/skipped_steps", float(self.skipped), on_step=True, on_epoch=False)
