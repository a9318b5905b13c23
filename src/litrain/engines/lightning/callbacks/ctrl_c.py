"""Lightning side of Ctrl-C: see :mod:`litrain.reliability.interrupt` for the mechanism."""

from __future__ import annotations

from typing import Any

import lightning as L

from litrain.reliability.interrupt import raise_if_lost


class LostInterrupt(L.Callback):
    """Before every batch, raise again a first Ctrl-C whose exception was swallowed."""

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        raise_if_lost()

    def on_validation_batch_start(
        self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        raise_if_lost()
