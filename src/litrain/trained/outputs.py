"""The one engine-neutral pass: a predictor's outputs on a split of a data module, with the
split's targets. Under DDP each rank runs every world-th batch and all ranks get the whole
split back in order (no sampler padding, so no sample counts twice)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from litrain.core.dist import rank_and_world
from litrain.errors import ConfigError

SPLITS = ("train", "val", "test")


def split_loader(datamodule: Any, split: str) -> Any:
    """The data module's loader of ``split`` (train, val or test); the train one unshuffled
    is not offered by litrain's DataModule, so train is read as it trains."""
    if split not in SPLITS:
        raise ConfigError(f"split {split!r}: choose one of {', '.join(SPLITS)}")
    return getattr(datamodule, f"{split}_dataloader")()


@torch.no_grad()
def outputs_on(predictor: Any, datamodule: Any, split: str = "test") -> tuple[Tensor, Tensor | None]:
    """(outputs, targets) of ``predictor`` (called on each batch's inputs, as the data module
    yields them) on ``split``: the model's raw outputs in float32 on the CPU, and the
    targets (None when the batches carry none)."""
    task = predictor.task
    param = next(predictor.parameters(), None) if hasattr(predictor, "parameters") else None
    device = param.device if param is not None else torch.device("cpu")
    if hasattr(predictor, "eval"):
        predictor.eval()
    rank, world = rank_and_world()
    mine: list[tuple[int, Tensor, Any]] = []
    for i, batch in enumerate(split_loader(datamodule, split)):
        if i % world != rank:
            continue
        x, y = task.unpack(batch) if task is not None else (batch, None)
        out = predictor(x.to(device) if isinstance(x, Tensor) else x)
        mine.append((i, out.float().cpu(), y.cpu() if isinstance(y, Tensor) else y))
    if world > 1:
        import torch.distributed as dist

        everyone: list[Any] = [None] * world
        dist.all_gather_object(everyone, mine)
        mine = sorted((item for part in everyone for item in part), key=lambda item: item[0])
    if not mine:
        raise ConfigError(f"the {split} split is empty: there is nothing to predict on")
    outputs = torch.cat([o for _, o, _ in mine])
    targets = [t for _, _, t in mine]
    return outputs, (torch.cat(targets) if all(isinstance(t, Tensor) for t in targets) else None)
