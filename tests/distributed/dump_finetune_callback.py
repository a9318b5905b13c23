"""For test_finetune_ddp.py, imported by the training processes via class_path: each rank
records, at each training epoch's first batch, the global step and which block groups the
freezing policy trains, and its final weights when training ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch


class DumpFinetune(L.Callback):
    def __init__(self, out: str) -> None:
        self.out = Path(out)
        self.rows: list[dict[str, Any]] = []

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, idx: int
    ) -> None:
        if idx == 0:
            (policy,) = [cb.policy for cb in trainer.callbacks if type(cb).__name__ == "Finetuning"]
            self.rows.append({"step": trainer.global_step, "unfrozen": list(policy.unfrozen)})

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        weights = {k: v.detach().cpu().clone() for k, v in pl_module.state_dict().items()}
        torch.save({"rows": self.rows, "weights": weights}, self.out / f"rank{trainer.global_rank}.pt")
