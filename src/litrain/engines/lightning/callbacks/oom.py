"""Lightning side of ``trainer.oom_recovery`` (the split-and-retry step: :mod:`litrain.reliability.oom`).

The training step is wrapped so its gradients come from ``MicroBatches.gradients``; they go
into ``.grad`` in ``on_after_backward``, because Lightning zeroes ``.grad`` between
``training_step`` and its backward, so gradients written during the step itself would be
lost. Lightning's own backward then runs on a detached leaf and touches no parameter.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import lightning as L

from litrain.core.noise import LitrainNotice
from litrain.errors import LitrainError
from litrain.reliability.oom import Gradients, MicroBatches, OutOfMemory, add_gradients

__all__ = ["OOMRecovery", "OutOfMemory"]


def _loss_of(output: Any) -> Any:
    return output["loss"] if isinstance(output, dict) else output


class OOMRecovery(MicroBatches, L.Callback):
    def __init__(self) -> None:
        super().__init__(warn=partial(L.pytorch.utilities.rank_zero_warn, category=LitrainNotice))
        self._original: Any = None
        self._pending: Gradients = []

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit" or not pl_module.automatic_optimization:
            return
        if trainer.world_size > 1:
            raise LitrainError("trainer.oom_recovery works on one device: turn it off for DDP/FSDP")
        self._original = pl_module.training_step

        def training_step(batch: Any, batch_idx: int, *args: Any, **kwargs: Any) -> Any:
            return self._step(trainer, pl_module, batch, batch_idx, *args, **kwargs)

        pl_module.training_step = training_step  # type: ignore[method-assign]

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self._original is not None:
            del pl_module.training_step  # the instance attribute: back to the class method
            self._original = None

    def _step(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        batch: Any,
        batch_idx: int,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        accumulate = trainer.accumulate_grad_batches

        def scale(loss: Any) -> Any:
            scaled = loss / accumulate  # Lightning divides the returned loss the same way
            return scaler.scale(scaled) if scaler is not None else scaled

        total, self._pending = self.gradients(
            batch,
            lambda part: _loss_of(self._original(part, batch_idx, *args, **kwargs)),
            scale,
            [p for p in pl_module.parameters() if p.requires_grad],
            trainer.global_step,
        )
        return total.clone().requires_grad_(True)

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        add_gradients(self._pending)
        self._pending = []
