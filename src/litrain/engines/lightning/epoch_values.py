"""A task's once-per-epoch values (``Task.epoch_values``, e.g. ``train/weight/<head>``) as
metrics Lightning computes at the training epoch's end, when it computes ``train/loss_epoch``:
so they are in the callback metrics that history.json, checkpoints and the loggers read, as
the native loop puts them in its epoch row."""

from __future__ import annotations

from typing import Any

import torch
import torchmetrics as tm
from torch import nn


class EpochValue(tm.Metric):
    """One key of ``task.epoch_values()``, read when computed. The same on every rank (the
    task's state is synced), so it never syncs itself."""

    full_state_update = False

    def __init__(self, task: Any, key: str) -> None:
        super().__init__(sync_on_compute=False)
        self.task, self.key = task, key

    def update(self) -> None:  # marks the metric as updated this epoch; nothing to accumulate
        pass

    def compute(self) -> torch.Tensor:
        return torch.tensor(self.task.epoch_values()[self.key])


def epoch_value_metrics(task: Any) -> nn.ModuleDict | None:
    keys = list(task.epoch_values()) if task is not None else []
    if not keys:
        return None
    return nn.ModuleDict({str(i): EpochValue(task, key) for i, key in enumerate(keys)})


def start_epoch(module: Any, task: Any, metrics: nn.ModuleDict | None) -> None:
    """The task's epoch-start hook (idempotent within an epoch), then its epoch values
    registered for this epoch. Called before the epoch's first batch, resumed ones too."""
    if task is not None:
        task.on_train_epoch_start(module.current_epoch)
    for metric in (metrics or {}).values():
        metric.update()
        module.log(metric.key, metric, on_step=False, on_epoch=True)
