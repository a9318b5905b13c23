"""The one rank/world helper for code that runs inside an open process group (samplers,
loaders, reductions). Before the group exists, ``litrain.launch.environment`` reads the
launcher's variables instead."""

from __future__ import annotations


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of the open process group, else (0, 1)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
