"""Lightning side of ``logging.grad_norm``, ``logging.memory``, ``logging.throughput`` and
``trainer.memory_cleanup_interval`` (the measurements: :mod:`litrain.core.gradnorm`,
:mod:`litrain.core.memory`, :mod:`litrain.core.throughput`; the native loop calls the same).

Values are logged on the logger's steps, next to ``train/lr``. The gradient norms are taken
in ``on_before_optimizer_step`` (after fp16 unscaling, before clipping) only on those steps,
and the NaN guard, which runs after this callback, checks finiteness from the same norms.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from litrain.core.gradnorm import GradNorms
from litrain.core.memory import cleanup_due, memory_metrics, release_memory
from litrain.core.throughput import Throughput


def batch_size(pl_module: L.LightningModule, batch: Any) -> int:
    """Samples in ``batch``: the task's inputs, else the first tensor's length."""
    task = getattr(pl_module, "task", None)
    if task is not None:
        return len(task.unpack(batch)[0])
    first = batch
    while isinstance(first, tuple | list | dict) and first:
        first = next(iter(first.values())) if isinstance(first, dict) else first[0]
    return len(first) if isinstance(first, torch.Tensor) else 0


class TrainingMonitor(L.Callback):
    def __init__(
        self,
        grad_norm: float | None = None,
        memory: bool = False,
        throughput: bool = False,
        cleanup_interval: int | None = None,
    ) -> None:
        self.order, self.memory, self.cleanup_interval = grad_norm, memory, cleanup_interval
        self.throughput = Throughput() if throughput else None
        self.grad_norms: GradNorms | None = None
        # (gradients, their norms) of the step in progress when measured; the NaN guard reads it
        self.measured: tuple[list[torch.Tensor], torch.Tensor | None] | None = None
        self._last_step = -1

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.order:  # per top-level module of the model, not of the LightningModule
            self.grad_norms = GradNorms(getattr(pl_module, "model", pl_module), self.order)
        self._last_step = trainer.global_step

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.throughput is not None:
            self.throughput.restart()

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        self.measured = None
        if self.grad_norms is not None and (trainer.global_step + 1) % trainer.log_every_n_steps == 0:
            self.measured = self.grad_norms.measure()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.throughput is not None:
            self.throughput.update(batch_size(pl_module, batch))
        step = trainer.global_step
        stepped, self._last_step = step != self._last_step, step
        if not stepped:  # inside an accumulation window
            return
        if cleanup_due(step, self.cleanup_interval):
            release_memory(pl_module.device)
        if step % trainer.log_every_n_steps != 0:  # the steps train/lr is logged on
            return
        values: dict[str, float] = {}
        if self.grad_norms is not None and self.measured is not None:
            values.update(self.grad_norms.values)
        if self.memory:
            values.update(memory_metrics(pl_module.device))
        if self.throughput is not None:
            rate = self.throughput.rate()
            if rate is not None:
                values["train/samples_per_sec"] = rate
        if values:
            pl_module.log_dict(values, on_step=True, on_epoch=False)
