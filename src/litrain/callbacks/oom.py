"""Out-of-memory recovery (``trainer.oom_recovery``): when a training step runs out of
memory, free what it held, split the batch into twice as many micro-batches (so the
effective batch, and thus the result, is unchanged) and redo the step from the first
micro-batch that did not finish; at one sample per micro-batch, stop with a clear message.

Each micro-batch's gradients are computed with ``torch.autograd.grad`` and summed into a
side buffer only once they are complete, so an OOM in the forward *or* the backward pass
leaves no partial gradients behind and the retried step is exact. The buffer goes into
``.grad`` in ``on_after_backward``: Lightning zeroes ``.grad`` between ``training_step`` and
its backward, so gradients written during the step itself would be lost. The split persists for
the rest of the run (and across resume) because the memory that ran out stays as small.
Single-device only: under DDP each micro-batch would need its own gradient all-reduce.
"""

from __future__ import annotations

import gc
import math
from typing import Any

import lightning as L
import torch

from litrain.errors import LitrainError


class OutOfMemory(LitrainError):
    """Even one sample per micro-batch does not fit."""


def _batch_len(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return len(batch)
    if isinstance(batch, dict):
        return _batch_len(next(iter(batch.values())))
    return _batch_len(batch[0])


def slice_batch(batch: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of every tensor in a (nested) batch."""
    if isinstance(batch, torch.Tensor):
        return batch[start:stop]
    if isinstance(batch, dict):
        return {k: slice_batch(v, start, stop) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(slice_batch(v, start, stop) for v in batch)
    return batch


def _loss_of(output: Any) -> torch.Tensor:
    return output["loss"] if isinstance(output, dict) else output


def _free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class OOMRecovery(L.Callback):
    def __init__(self) -> None:
        self.splits = 1  # micro-batches per loader batch
        self._original: Any = None
        self._pending: list[tuple[torch.nn.Parameter, torch.Tensor]] = []

    def state_dict(self) -> dict[str, Any]:
        return {"splits": self.splits}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.splits = int(state_dict.get("splits", 1))

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
        n = _batch_len(batch)
        done, total = 0, None
        summed: list[torch.Tensor | None] = []
        params = [p for p in pl_module.parameters() if p.requires_grad]
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        accumulate = trainer.accumulate_grad_batches
        while done < n:
            size = math.ceil(n / self.splits)
            try:
                part = slice_batch(batch, done, min(n, done + size))
                m = _batch_len(part)
                loss = _loss_of(self._original(part, batch_idx, *args, **kwargs)) * (m / n)
                # Lightning divides the returned loss by accumulate_grad_batches; do the same.
                scaled = loss / accumulate
                if scaler is not None:
                    scaled = scaler.scale(scaled)
                grads = torch.autograd.grad(scaled, params, allow_unused=True)
            except torch.OutOfMemoryError:
                loss = scaled = part = None  # drop references so the memory can be freed
                _free_memory()
                self._shrink(trainer, size)
                continue
            if not summed:
                summed = list(grads)
            else:
                for i, g in enumerate(grads):
                    if g is not None:
                        summed[i] = g if summed[i] is None else summed[i].add_(g)
            total = loss.detach() if total is None else total + loss.detach()
            done += m
        self._pending = [(p, g) for p, g in zip(params, summed, strict=True) if g is not None]
        # Lightning's own backward on this leaf touches no parameter; the gradients go in
        # after it (on_after_backward).
        return total.clone().requires_grad_(True)

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for p, g in self._pending:
            if p.grad is None:
                p.grad = g
            else:
                p.grad.add_(g)
        self._pending = []

    def _shrink(self, trainer: L.Trainer, size: int) -> None:
        if size <= 1:
            raise OutOfMemory(
                f"out of memory at step {trainer.global_step} even with one sample per "
                "micro-batch: use a smaller model or image size, bf16-mixed precision, or a "
                "device with more memory"
            )
        self.splits *= 2
        L.pytorch.utilities.rank_zero_warn(
            f"out of memory at step {trainer.global_step}: each batch now runs as {self.splits} "
            f"micro-batches of about {math.ceil(size / 2)} samples (effective batch unchanged)"
        )
