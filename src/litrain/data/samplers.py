"""Train samplers by name, registered in ``litrain.data`` (``SAMPLERS``).

``random``: shuffling that depends only on (seed, epoch), like DistributedSampler: the order
of epoch k is the same whether the run started at epoch 0 or resumed at k, in either engine.
A sampler factory is ``(n, seed, with_epoch) -> a Sampler with set_epoch``; with_epoch: yield
``(epoch, i)`` pairs, which SplitDataset uses to seed per-sample augmentation. This is where
a weighted sampler for class balancing would go."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochShuffleSampler(Sampler[int]):
    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:  # called by Lightning and the native loop
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())


class EpochIndexSampler(EpochShuffleSampler):
    """EpochShuffleSampler's order, each index paired with its epoch (see SplitDataset)."""

    yields_epoch = True  # litrain.data.sharding keeps the pairs when it shards the order

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        return ((self.epoch, i) for i in super().__iter__())


def random(n: int, seed: int, with_epoch: bool = False) -> EpochShuffleSampler:
    """The default train order: a seeded shuffle per epoch."""
    return EpochIndexSampler(n, seed) if with_epoch else EpochShuffleSampler(n, seed)
