"""The loader for a ShardDataset: a ``StatefulDataLoader`` (mid-epoch resume) over batches
the dataset already assembled (``batch_size=None``), whose ``sampler.set_epoch`` reaches the
dataset, since both engines set the epoch on a loader's sampler (as Lightning does)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data.dataloader import _InfiniteConstantSampler
from torchdata.stateful_dataloader import StatefulDataLoader

from litrain.data.shards.read import ShardDataset
from litrain.errors import DataError


class _EpochSampler(_InfiniteConstantSampler):
    """The iterable-dataset sampler DataLoader uses anyway, with set_epoch passed on."""

    def __init__(self, dataset: ShardDataset) -> None:
        super().__init__()
        self.dataset = dataset

    def set_epoch(self, epoch: int) -> None:
        self.dataset.set_epoch(epoch)


class _OneLineErrors:
    """An iterator that turns a DataError raised in a worker (re-raised with the worker's
    traceback in its text) back into the one-line error the user should see."""

    def __init__(self, it: Iterator[Any]) -> None:
        self.it = it

    def __iter__(self) -> _OneLineErrors:
        return self

    def __next__(self) -> Any:
        try:
            return next(self.it)
        except DataError as exc:
            lines = [line for line in str(exc).splitlines() if line.strip()]
            if len(lines) <= 1:
                raise
            last = lines[-1]
            prefix = "DataError: "
            raise DataError(last.split(prefix, 1)[1] if prefix in last else last) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.it, name)


class ShardLoader(StatefulDataLoader):
    def __init__(self, dataset: ShardDataset, **kwargs: Any) -> None:
        super().__init__(dataset, batch_size=None, **kwargs)
        # DataLoader forbids a sampler for an iterable dataset and freezes the attribute;
        # this one only adds set_epoch to the default it would use.
        object.__setattr__(self, "sampler", _EpochSampler(dataset))

    def __iter__(self) -> Any:
        return _OneLineErrors(super().__iter__())


def shard_loader(
    ds: ShardDataset, num_workers: int, pin_memory: bool, persistent: bool, seed: int
) -> ShardLoader:
    return ShardLoader(
        ds,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=persistent and num_workers > 0,
        generator=torch.Generator().manual_seed(seed),
    )
