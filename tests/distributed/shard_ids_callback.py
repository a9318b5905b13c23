"""Records which samples each rank trains on (npy shards from tests/shard_data.py, whose
inputs are filled with their sample id), imported by the training processes via class_path."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import lightning as L


class RecordIds(L.Callback):
    def __init__(self, out: str) -> None:
        self.out = Path(out)
        self.batches: list[list[int]] = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        x = batch[0]
        self.batches.append([int(v) for v in x.reshape(len(x), -1)[:, 0].round().tolist()])
        # written after every batch: a killed process leaves what it trained on so far
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / f"rank{trainer.global_rank}-pid{os.getpid()}.json"
        path.write_text(json.dumps(self.batches))
