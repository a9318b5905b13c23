"""Loaders that can stop mid-epoch and pick up at the same batch after a restart.

The contract is the one Lightning's fit loop and ``torchdata.StatefulDataLoader`` share:
``state_dict()`` / ``load_state_dict(state)``. Lightning stores the train loader's state in
each checkpoint and hands it back on resume, before the first batch of the resumed epoch.

- DataLoader path: ``litrain.data.datamodule`` builds the train loader as a
  ``StatefulDataLoader`` (num_workers 0 or more), which implements the contract itself.
- In-memory path: an epoch of ``InMemoryLoader`` is a pure function of (seed, epoch)
  (shuffle and augmentation draw from generators seeded by them), so :class:`ReplayLoader`
  restores a position by regenerating the epoch and dropping the batches already trained
  on: cheap for data held in memory, and exact by construction. A loader that implements
  ``state_dict``/``load_state_dict`` itself is used as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch.utils.data import DataLoader


def has_state(loader: Any) -> bool:
    return all(callable(getattr(loader, name, None)) for name in ("state_dict", "load_state_dict"))


class ReplayLoader:
    """Wraps a loader whose epoch depends only on its ``epoch`` (set via ``set_epoch``)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self._yielded = 0
        self._restore: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str) -> Any:  # sampler, batch_size, dataset, x, y, ...
        if name == "loader":
            raise AttributeError(name)
        return getattr(self.loader, name)

    def set_epoch(self, epoch: int) -> None:
        self.loader.set_epoch(epoch)

    def _epoch(self) -> int:
        return int(getattr(self.loader, "epoch", 0))

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self._epoch(), "yielded": self._yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._restore = dict(state)

    def __iter__(self) -> Iterator[Any]:
        skip = 0
        if self._restore is not None:
            # Only a position inside the epoch being resumed counts; a finished epoch (or
            # one Lightning already moved past) starts from its first batch.
            same = self._restore["epoch"] == self._epoch()
            if same and self._restore["yielded"] < len(self.loader):
                skip = self._restore["yielded"]
            self._restore = None
        self._yielded = 0
        for i, batch in enumerate(self.loader):
            self._yielded = i + 1
            if i >= skip:
                yield batch


def make_resumable(loader: Any) -> Any:
    """``loader`` itself when it already keeps state (StatefulDataLoader, or a loader that
    implements the contract); a ReplayLoader around a deterministic-per-epoch loader; else
    ``loader`` unchanged (a user's plain DataLoader: Lightning then warns that a mid-epoch
    resume is not exact)."""
    if has_state(loader) or isinstance(loader, DataLoader):
        return loader
    if callable(getattr(loader, "set_epoch", None)) and hasattr(loader, "epoch"):
        return ReplayLoader(loader)
    return loader
