"""The data the gate and int8 calibration read: the run's validation split (model inputs as
the data module yields them), or, when the run's data cannot be built here (deleted, not
mounted), the card's example input alone."""

from __future__ import annotations

from itertools import islice
from typing import Any

import torch
from torch import Tensor

from litrain.errors import LitrainError
from litrain.export.gate import HeldOut
from litrain.export.source import ExportSource

EXAMPLE_SAMPLES = 64  # the example-input gate: random inputs of the card's shape


def datamodule_of(src: ExportSource) -> Any | None:
    """The run's data module set up for fit (train and val), or None when it cannot be
    built here (the data is gone: the gate then runs on the example input)."""
    from litrain.data.datamodule import build_datamodule

    cfg = src.run.config
    try:
        dm = build_datamodule(cfg.data, cfg.task, cfg.run.seed)
        dm.setup("fit")
    except (LitrainError, OSError):
        return None
    return dm


def held_out(src: ExportSource, dm: Any | None) -> HeldOut:
    """The validation split's batches and targets, else the example input."""
    if dm is not None and getattr(dm, "val_set", None) is not None:
        xs, ys = [], []
        task = src.run.task
        for batch in dm.val_dataloader():
            x, y = task.unpack(batch)
            xs.append(x.float())
            ys.append(y)
        if xs:
            targets = torch.cat(ys) if all(isinstance(y, Tensor) for y in ys) else None
            return HeldOut(xs, targets, "val")
    return HeldOut([src.example(EXAMPLE_SAMPLES)], None, "example")


def calibration_batches(src: ExportSource, dm: Any | None, count: int) -> list[Tensor]:
    """``count`` training batches (what int8 fixes its activation ranges on), else the example."""
    if dm is None:
        return [src.example(EXAMPLE_SAMPLES, seed=1)]
    task = src.run.task
    return [task.unpack(b)[0].float() for b in islice(dm.train_dataloader(), count)]
