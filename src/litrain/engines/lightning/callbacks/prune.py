"""``finetune.prune`` in the Lightning engine: the adapter around the shared pruner
(``litrain.optim.pruning``), which the native engine calls from its loop."""

from __future__ import annotations

from typing import Any

import lightning as L
from torch import nn

from litrain.config import PruneConfig
from litrain.optim.pruning import Pruner


class Pruning(L.Callback):
    def __init__(self, cfg: PruneConfig) -> None:
        self.cfg = cfg
        self.pruner: Pruner | None = None
        self._epoch = -1  # the epoch start_epoch last ran for
        self._attached: set[int] = set()

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        model = getattr(pl_module, "model", None)
        if stage == "fit" and self.pruner is None and isinstance(model, nn.Module):
            self.pruner = Pruner(model, self.cfg)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.pruner is not None:
            for opt in trainer.optimizers:
                if id(opt) not in self._attached:  # the post-step hook that keeps the zeros
                    self.pruner.attach(opt)
                    self._attached.add(id(opt))

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        # here, not in on_train_epoch_start, which Lightning skips when it resumes mid-epoch
        if self.pruner is None or self._epoch == trainer.current_epoch:
            return
        self._epoch = trainer.current_epoch
        self.pruner.start_epoch(self._epoch)
        pl_module.log("train/sparsity", self.pruner.sparsity(), on_step=False, on_epoch=True)
