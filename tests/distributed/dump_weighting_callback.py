"""For test_multitask_ddp.py, imported by the training processes via class_path: each rank
saves its multi-task weighting state (log-variances, dwa buffers) when training ends."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch


class DumpWeighting(L.Callback):
    def __init__(self, out: str) -> None:
        self.out = Path(out)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        state = {k: v.detach().cpu().clone() for k, v in pl_module.state_dict().items() if ".weighting." in k}
        self.out.mkdir(parents=True, exist_ok=True)
        torch.save(state, self.out / f"rank{trainer.global_rank}.pt")
