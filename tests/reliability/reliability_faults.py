"""Fault injectors the reliability tests plug in through ``trainer.callbacks`` class_path
(this directory is on sys.path under pytest; subprocess tests add it to PYTHONPATH)."""

from __future__ import annotations

import os
import signal
from typing import Any

import lightning as L
import torch


class NaNBatch(L.Callback):
    """Turns the inputs of the training batch at optimizer step ``step`` into NaN."""

    def __init__(self, step: int, times: int = 1) -> None:
        self.step, self.times = step, times

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if self.step <= trainer.global_step < self.step + self.times:
            batch[0].fill_(float("nan"))


class RecordWeights(L.Callback):
    """Keeps a CPU copy of the weights before and after every optimizer step, and of the
    EMA weights (``trainer.ema``) before each step."""

    def __init__(self) -> None:
        self.before: dict[int, dict[str, torch.Tensor]] = {}
        self.after: dict[int, dict[str, torch.Tensor]] = {}
        self.ema_before: dict[int, dict[str, torch.Tensor]] = {}
        self.lr: dict[int, float] = {}

    def _copy(self, pl_module: Any) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in pl_module.state_dict().items()}

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        self.before[trainer.global_step] = self._copy(pl_module)
        from litrain.engines.lightning.callbacks.ema import EMA

        ema = next((c.module for c in trainer.callbacks if isinstance(c, EMA)), None)
        if ema is not None:
            self.ema_before[trainer.global_step] = self._copy(ema)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step - 1
        self.after[step] = self._copy(pl_module)
        self.lr[step] = trainer.optimizers[0].param_groups[0]["lr"]


class OOMAt(L.Callback):
    """Raises torch.OutOfMemoryError from a forward pre-hook of the model whenever a
    micro-batch larger than ``max_rows`` arrives at or after step ``step``; ``max_rows=0``
    makes every forward fail from then on."""

    def __init__(self, step: int, max_rows: int) -> None:
        self.step, self.max_rows = step, max_rows
        self.raised = 0

    def on_fit_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        def hook(module: Any, args: Any) -> None:
            if trainer.training and trainer.global_step >= self.step and len(args[0]) > self.max_rows:
                self.raised += 1
                raise torch.OutOfMemoryError("CUDA out of memory (injected)")

        pl_module.model.register_forward_pre_hook(hook)


class OOMInEval(L.Callback):
    """Raises torch.OutOfMemoryError from the model's first forward of a validate or test run."""

    def _arm(self, pl_module: Any) -> None:
        def hook(module: Any, args: Any) -> None:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")

        pl_module.model.register_forward_pre_hook(hook)

    def on_validation_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        if not trainer.sanity_checking:
            self._arm(pl_module)

    def on_test_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._arm(pl_module)


class SignalAt(L.Callback):
    """Sends ``signame`` to this process ``times`` times at the start of training batch
    number ``batch`` (counted from this process's start); only on ``rank`` when given."""

    def __init__(self, batch: int, times: int = 1, signame: str = "SIGTERM", rank: int | None = None) -> None:
        self.batch, self.times, self.signame, self.rank = batch, times, signame, rank
        self.seen = 0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        self.seen += 1
        if self.seen == self.batch and self.rank in (None, trainer.global_rank):
            for _ in range(self.times):
                os.kill(os.getpid(), getattr(signal, self.signame))


class KillRank(L.Callback):
    """SIGKILLs this process at training batch ``batch`` when it is rank ``rank``: a rank
    that dies without a word, as the OOM-killer or a failed node does."""

    def __init__(self, batch: int, rank: int = 1) -> None:
        self.batch, self.rank, self.seen = batch, rank, 0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        self.seen += 1
        if self.seen == self.batch and trainer.global_rank == self.rank:
            os.kill(os.getpid(), signal.SIGKILL)
