"""How each rank reads its part of the data.

- Training: :class:`TrainShardSampler` shuffles exactly like ``EpochShuffleSampler`` (and
  torch's ``DistributedSampler``: ``randperm(n)`` seeded with ``seed + epoch``), pads the
  permutation to a multiple of the world size and gives rank r every world-th index from r.
  So 2 processes with batch B see, step by step, the same global batches as 1 process with
  batch 2B, and every rank runs the same number of steps (an uneven last batch never hangs).
  A class-weighted sampler (``data.sampler: balanced | progressive``) is sharded the same way:
  its epoch's one global draw (``order(epoch)``, seeded by seed and epoch) is padded and
  split by position, so the ranks draw equally many samples, no position twice, and together
  exactly the draw of one process.
  A sampler that pairs each index with its epoch (seeded augmentation, see
  ``litrain.data.datamodule.SplitDataset``) keeps doing so, and the rebuilt loader keeps the
  original's class (``StatefulDataLoader``: mid-epoch resume) and its worker-seed generator,
  so augmentation and a mid-epoch resume are as exact under DDP as in one process.
- Evaluation: :class:`EvalShardSampler` splits the indices without padding, so each sample
  is scored exactly once and a 2-process evaluation equals the 1-process one.
- Iterable data: :class:`ShardedIterable` keeps one sample in ``world`` for its rank and
  drops the incomplete last group, so every rank yields the same count.

Ranks are read when iteration starts, not at construction, because under ``ddp_spawn``
the loaders are built in the parent before any process group exists. Both samplers are
``DistributedSampler`` subclasses so Lightning keeps them instead of wrapping its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import (
    DataLoader,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    get_worker_info,
)
from torchdata.stateful_dataloader import StatefulDataLoader

from litrain.core.dist import rank_and_world
from litrain.data.samplers import EpochShuffleSampler


class _LazySampler(DistributedSampler):
    def __init__(
        self,
        n: int,
        seed: int = 0,
        shuffle: bool = True,
        with_epoch: bool = False,
        order: Callable[[int], torch.Tensor] | None = None,
    ) -> None:
        # no super().__init__(): it wants the ranks now
        self.n, self.seed, self.epoch, self.shuffle = n, seed, 0, shuffle
        self.with_epoch = with_epoch
        self.order = order  # the 1-process sampler's epoch order (its order method)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _indices(self) -> list[int]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        if self.with_epoch:
            return ((self.epoch, i) for i in self._indices())
        return iter(self._indices())

    def __len__(self) -> int:
        return len(self._indices())


class TrainShardSampler(_LazySampler):
    def _indices(self) -> list[int]:
        rank, world = rank_and_world()
        if self.order is not None:
            order = self.order(self.epoch).tolist()
        elif self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        total = -(-self.n // world) * world
        order += order[: total - self.n]  # pad with the first indices, as DistributedSampler
        return order[rank:total:world]


class EvalShardSampler(_LazySampler):
    def _indices(self) -> list[int]:
        rank, world = rank_and_world()
        return list(range(rank, self.n, world))


class ShardedIterable(IterableDataset):
    """Rank r (and worker w of it) keeps the samples at positions r*W+w of each group of
    world*W consecutive samples; a trailing incomplete group is dropped on every rank."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def __iter__(self) -> Iterator[Any]:
        rank, world = rank_and_world()
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info else (1, 0)
        group, slot = world * workers, rank * workers + worker
        buffer: list[Any] = []
        for item in self.source:
            buffer.append(item)
            if len(buffer) == group:
                yield buffer[slot]
                buffer = []


def _rebuild(loader: DataLoader, **changes: Any) -> DataLoader:
    kw: dict[str, Any] = {
        "batch_size": loader.batch_size,
        "num_workers": loader.num_workers,
        "collate_fn": loader.collate_fn,
        "pin_memory": loader.pin_memory,
        "drop_last": loader.drop_last,
        "worker_init_fn": loader.worker_init_fn,
        "persistent_workers": loader.persistent_workers,
        "generator": loader.generator,
    }
    kw.update(changes)
    dataset = kw.pop("dataset", loader.dataset)
    # a user's DataLoader subclass may take other arguments: only ours keeps its class
    cls = StatefulDataLoader if isinstance(loader, StatefulDataLoader) else DataLoader
    return cls(dataset, **kw)


class EvalShardBatches:
    """This rank's unpadded share of a loader that holds its split as tensors ``x``, ``y``
    (the in-memory loader): rows rank, rank+world, ... in batches of the same size."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.batch_size: int = loader.batch_size

    def __len__(self) -> int:
        rank, world = rank_and_world()
        return -(-len(range(rank, len(self.loader.x), world)) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        rank, world = rank_and_world()
        x, y = self.loader.x[rank::world], self.loader.y[rank::world]
        for start in range(0, len(x), self.batch_size):
            yield x[start : start + self.batch_size], y[start : start + self.batch_size]


def shard_loader(loader: Any, train: bool, seed: int) -> Any:
    """``loader`` reading only this rank's share (see the module doc)."""
    if not isinstance(loader, DataLoader):
        # The in-memory loader shards its training order itself (padded, as above); its
        # evaluation order would be padded too, so evaluation reads an unpadded share.
        if not train and hasattr(loader, "x") and hasattr(loader, "y"):
            return EvalShardBatches(loader)
        return loader
    if isinstance(loader.sampler, DistributedSampler) or isinstance(loader.dataset, ShardedIterable):
        return loader
    if getattr(loader.dataset, "reads_rank_itself", False):  # streamed shards (data/shards/read.py)
        return loader
    if isinstance(loader.dataset, IterableDataset):
        return _rebuild(loader, dataset=ShardedIterable(loader.dataset))
    n = len(loader.dataset)  # type: ignore[arg-type]
    shuffled = isinstance(loader.sampler, EpochShuffleSampler | RandomSampler)
    if train and shuffled:
        with_epoch = getattr(loader.sampler, "yields_epoch", False)
        order = getattr(loader.sampler, "order", None)  # litrain's samplers: random or weighted
        sampler: DistributedSampler = TrainShardSampler(
            n, getattr(loader.sampler, "seed", seed), with_epoch=with_epoch, order=order
        )
    elif train:  # an unshuffled train loader keeps its order; padded like the shuffled one
        sampler = TrainShardSampler(n, seed, shuffle=False)
    else:
        sampler = EvalShardSampler(n)
    return _rebuild(loader, sampler=sampler)
