"""A callback for test_timeout.py, imported by the training processes via class_path."""

from __future__ import annotations

import time
from typing import Any

import lightning as L


class StallRank(L.Callback):
    """Keeps rank 1 away from the second step's gradient all-reduce for ``seconds``."""

    def __init__(self, seconds: float = 12.0) -> None:
        self.seconds = seconds

    def on_train_batch_start(self, trainer: L.Trainer, module: Any, batch: Any, batch_idx: int) -> None:
        if batch_idx == 1 and trainer.global_rank == 1:
            time.sleep(self.seconds)
