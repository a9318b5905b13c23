"""Where a native run stands inside an epoch, as a mid-epoch checkpoint stores it and a
resumed run reads it back: batches done, the epoch's running loss sums (so the epoch's
``train/loss`` is the uninterrupted one) and the train loader's own state.

A loader with state (``StatefulDataLoader``, ``ReplayLoader``: see
``litrain.data.resumable``) restarts from its saved state; one without (the DDP shards)
is replayed and the batches already trained on are dropped, which is exact because its
order depends only on (seed, epoch).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import torch

from litrain.data.resumable import has_state


@dataclass
class EpochState:
    """Running sums of one training epoch, kept on the device (no sync per step)."""

    loss_sum: torch.Tensor
    count: int = 0
    lr: float = 0.0


def save_position(batches_done: int, ep: EpochState, loader: Any) -> dict[str, Any]:
    return {
        "batches_done": batches_done,
        "loss_sum": ep.loss_sum.detach().cpu(),
        "count": ep.count,
        "lr": ep.lr,
        "loader": loader.state_dict() if has_state(loader) else None,
    }


def restore_position(pos: dict[str, Any], ep: EpochState, loader: Any, epoch_batches: int) -> tuple[int, Any]:
    """(index of the first batch left, the batches left) of the resumed epoch; ``ep`` gets
    the running sums back. Call after the loader's epoch is set."""
    start = int(pos["batches_done"])
    ep.loss_sum = pos["loss_sum"].to(ep.loss_sum.device)
    ep.count, ep.lr = int(pos["count"]), float(pos["lr"])
    if start >= epoch_batches:  # saved after the epoch's last step: validation is next
        return start, []
    if pos.get("loader") is not None and has_state(loader):
        loader.load_state_dict(pos["loader"])
        return start, loader
    return start, itertools.islice(loader, start, None)
