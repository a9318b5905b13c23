"""A split as a Dataset: rows of a source's tensors (or Dataset) with a per-sample transform,
and the normalization every split shares. The DataModule builds them; the in-memory loader
reads their tensors directly."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from litrain.data.base import Split
from litrain.data.transforms import Transform


def call_transform(tf: Transform, x: torch.Tensor, y: object) -> torch.Tensor:
    """``tf(x, y)`` for a transform that reads the label (``uses_label``), else ``tf(x)``."""
    return tf(x, y) if getattr(tf, "uses_label", False) else tf(x)  # type: ignore[call-arg]


class SplitDataset(Dataset):
    """Rows ``indices`` of a split, with an optional per-sample transform.

    Indexed by ``(epoch, i)`` (what :class:`EpochIndexSampler` yields), a random transform
    draws from a generator seeded by (seed, epoch, sample): augmentation is then the same
    with 0 or N workers and after a mid-epoch resume, and never touches the global RNG that
    dropout uses. A plain ``i`` keeps the global RNG."""

    def __init__(
        self, base: Split, indices: torch.Tensor, transform: Transform | None = None, seed: int = 0
    ) -> None:
        self.base, self.indices, self.transform = base, indices, transform
        self.seed = seed

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, i = i if isinstance(i, tuple) else (None, i)
        j = int(self.indices[i])
        if isinstance(self.base, tuple):
            x, y = self.base[0][j], self.base[1][j]
        elif epoch is not None and hasattr(self.base, "epoch_sample"):
            x, y = self.base.epoch_sample(j, epoch, self.seed)  # e.g. a video clip drawn per epoch
        else:
            x, y = self.base[j]
        if self.transform is not None:
            if epoch is not None and _is_random(self.transform):
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed((self.seed * 1_000_003 + epoch) * 2_147_483_647 + j)
                    x = call_transform(self.transform, x, y)
            else:
                x = call_transform(self.transform, x, y)
        return x, y


class Normalize:
    """``before`` (pixel ops on the raw image), normalization, then ``then`` (flip/crop)."""

    uses_label = True  # passed on to a class-aware stage

    def __init__(
        self, mean: torch.Tensor, std: torch.Tensor, then: Transform | None, before: Transform | None = None
    ) -> None:
        self.mean, self.std, self.then, self.before = mean, std, then, before

    def __call__(self, x: torch.Tensor, y: object = None) -> torch.Tensor:
        if self.before is not None:
            x = call_transform(self.before, x, y)
        x = (x - self.mean) / self.std
        return call_transform(self.then, x, y) if self.then else x


class Chain:
    """Two stages without normalization between them (data.normalize false)."""

    uses_label = True

    def __init__(self, first: Transform, second: Transform) -> None:
        self.first, self.second = first, second

    def __call__(self, x: torch.Tensor, y: object = None) -> torch.Tensor:
        return call_transform(self.second, call_transform(self.first, x, y), y)


def _is_random(tf: Transform) -> bool:
    """Normalization alone is deterministic; augmentation (or any other transform) is not."""
    return not (isinstance(tf, Normalize) and tf.then is None and tf.before is None)
