"""Sharded (FSDP) checkpoints -> one ordinary checkpoint file: ``litrain convert --consolidate``.

A sharded checkpoint is a directory of ``.distcp`` files, ``.metadata`` and Lightning's
``meta.pt`` (see :mod:`litrain.checkpoint.store_dir`). Merging it needs only
``torch.distributed.checkpoint`` on one process, no process group and no Lightning, and the
merged file is written through the atomic store (fsync, rename, SHA-256 sidecar) like every
other checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from litrain.checkpoint.naming import consolidated_path
from litrain.checkpoint.store import atomic_save
from litrain.checkpoint.store_dir import META_FILE
from litrain.errors import CheckpointError

# Lightning's non-tensor keys kept in the merged file (the rest, e.g. loops, describe a
# sharded run's position and resume only on the same world size).
_KEPT = ("epoch", "global_step", "pytorch-lightning_version", "hyper_parameters", "hparams_name")


def is_sharded_checkpoint(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / ".metadata").is_file()


def read_sharded(src: Path) -> dict[str, Any]:
    """Every tensor of the sharded checkpoint ``src``, gathered on this one process."""
    from torch.distributed.checkpoint import FileSystemReader
    from torch.distributed.checkpoint.format_utils import _EmptyStateDictLoadPlanner
    from torch.distributed.checkpoint.state_dict_loader import _load_state_dict

    full: dict[str, Any] = {}
    _load_state_dict(
        full, storage_reader=FileSystemReader(src), planner=_EmptyStateDictLoadPlanner(), no_dist=True
    )
    return full


def consolidate(src: str | Path, dst: str | Path | None = None) -> Path:
    """Merge a sharded (.distcp) checkpoint directory into one file that loads with
    ``torch.load(..., weights_only=True)``: the full ``state_dict`` plus the run's hparams,
    epoch and step (optimizer shards are left out: they resume only on the same world)."""
    src = Path(src)
    if not is_sharded_checkpoint(src):
        raise CheckpointError(f"{src} is not a sharded checkpoint directory (no .metadata inside)")
    out = Path(dst) if dst else consolidated_path(src)
    full = read_sharded(src)
    # ModelParallelStrategy (CPU FSDP2) saves the weights as "state_dict", FSDPStrategy
    # (GPU FSDP1) as "model"; both hold the TaskModule's keys.
    weights = full.get("state_dict", full.get("model"))
    if not isinstance(weights, dict):
        raise CheckpointError(f"{src} holds no model state_dict")
    ckpt: dict[str, Any] = {"state_dict": {k: v.detach().clone() for k, v in weights.items()}}
    meta = src / META_FILE
    if meta.is_file():
        extra = torch.load(meta, map_location="cpu", weights_only=True)
        ckpt.update({key: extra[key] for key in _KEPT if key in extra})
    atomic_save(ckpt, out)  # temp, fsync, rename, dir fsync, sidecar: a crash leaves old or new
    return out
