"""ModelCheckpoint that keeps last.ckpt current at every save point.

Lightning 2.6 rewrites last.ckpt only when the same save point also wrote a top-k file, so
with ``save_top_k: 1`` an epoch that does not improve leaves last.ckpt behind and
``--resume last`` would silently restart from an older epoch.
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint


class TopKAndLastCheckpoint(ModelCheckpoint):
    def _refresh_last(self, trainer: L.Trainer, at_train_epoch_end: bool) -> None:
        if (
            self.save_last
            and not self._should_skip_saving_checkpoint(trainer)  # also: already saved this step
            and self._should_save_on_train_epoch_end(trainer) == at_train_epoch_end
        ):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self._refresh_last(trainer, at_train_epoch_end=True)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self._refresh_last(trainer, at_train_epoch_end=False)
