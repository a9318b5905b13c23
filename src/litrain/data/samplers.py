"""Train samplers by name (``data.sampler``), registered in ``litrain.data`` (``SAMPLERS``).

Every sampler's epoch is a pure function of (seed, epoch): ``order(epoch)`` is the epoch's
whole sample order, the one thing the DataLoader, the in-memory loader and the per-rank
shards (``litrain.data.sharding``) read. So the order of epoch k is the same whether the run
started at epoch 0 or resumed at k (mid-epoch too: the loaders skip what was trained on),
in either engine and under DDP.

- ``random``: a seeded shuffle per epoch (``randperm`` seeded with ``seed + epoch``, as
  torch's DistributedSampler).
- ``balanced``: ``n`` draws with replacement (``torch.multinomial``, the same generator
  seeding) where every class is equally likely: a sample of class c has weight
  ``1 / (C * n_c)``, so the draws are a sample of the class-balanced distribution.
- ``progressive``: the class probabilities go linearly from the natural ones (``n_c / n``,
  epoch 0) to the balanced ones (``1 / C``, epoch ``progressive_epochs`` and later), the
  progressively-balanced sampling of Kang et al. 2020.

A factory is ``(n, seed, with_epoch=False, labels=None, progressive_epochs=10) -> a Sampler
with set_epoch and order``; ``labels`` are the training split's class indices (weighted
samplers need them). with_epoch: yield ``(epoch, i)`` pairs, which SplitDataset uses to seed
per-sample augmentation."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import Sampler


class EpochShuffleSampler(Sampler[int]):
    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:  # called by Lightning and the native loop
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def generator(self, epoch: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed + epoch)

    def order(self, epoch: int) -> Tensor:
        """Epoch ``epoch``'s sample order over all ranks: ``n`` indices into the split."""
        return torch.randperm(self.n, generator=self.generator(epoch))

    def __iter__(self) -> Iterator[int]:
        return iter(self.order(self.epoch).tolist())


class EpochIndexSampler(EpochShuffleSampler):
    """EpochShuffleSampler's order, each index paired with its epoch (see SplitDataset)."""

    yields_epoch = True  # litrain.data.sharding keeps the pairs when it shards the order

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        return ((self.epoch, i) for i in super().__iter__())


def class_probabilities(counts: Tensor, progress: float) -> Tensor:
    """Class probabilities ``(1 - progress) * natural + progress * balanced``: natural are
    ``n_c / n``, balanced ``1 / C`` over the classes present (a class without samples is
    never drawn)."""
    counts = counts.double()
    natural = counts / counts.sum()
    present = counts > 0
    balanced = present.double() / present.sum()
    return (1 - progress) * natural + progress * balanced


class WeightedEpochSampler(EpochShuffleSampler):
    """``n`` draws with replacement per epoch, class c drawn with probability
    ``class_probabilities(counts, progress(epoch))[c]`` (each of its samples equally likely).

    Drawing with replacement is what makes rare classes as frequent as common ones: a rare
    sample appears several times an epoch, a common one may not appear. Under DDP the ranks
    split the positions of this one draw (``litrain.data.sharding``), so their draws are
    disjoint as positions and together exactly the global draw (the same sample id may occur
    at several positions, on one rank or on several, as it may in one process)."""

    def __init__(self, labels: Tensor, seed: int, progressive_epochs: int | None = None) -> None:
        super().__init__(len(labels), seed)
        self.labels = labels.long()
        self.counts = torch.bincount(self.labels)
        # None: balanced from the first epoch; k: natural at epoch 0, balanced from epoch k
        self.progressive_epochs = progressive_epochs

    def progress(self, epoch: int) -> float:
        if self.progressive_epochs is None:
            return 1.0
        return min(epoch / self.progressive_epochs, 1.0)

    def class_probabilities(self, epoch: int) -> Tensor:
        return class_probabilities(self.counts, self.progress(epoch))

    def sample_weights(self, epoch: int) -> Tensor:
        """Each sample's draw probability: its class's probability shared by the class's samples."""
        per_sample = self.class_probabilities(epoch) / self.counts.clamp(min=1).double()
        return per_sample[self.labels]

    def order(self, epoch: int) -> Tensor:
        g = self.generator(epoch)
        return torch.multinomial(self.sample_weights(epoch), self.n, replacement=True, generator=g)


class WeightedIndexSampler(WeightedEpochSampler):
    """WeightedEpochSampler's draws, each paired with its epoch (see SplitDataset)."""

    yields_epoch = True

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        return ((self.epoch, i) for i in super().__iter__())


def random(
    n: int, seed: int, with_epoch: bool = False, labels: Tensor | None = None, progressive_epochs: int = 10
) -> EpochShuffleSampler:
    """The default train order: a seeded shuffle per epoch."""
    return EpochIndexSampler(n, seed) if with_epoch else EpochShuffleSampler(n, seed)


def _weighted(labels: Tensor | None, seed: int, with_epoch: bool, epochs: int | None) -> WeightedEpochSampler:
    if labels is None:
        raise ValueError("a class-weighted sampler needs the training split's labels")
    cls = WeightedIndexSampler if with_epoch else WeightedEpochSampler
    return cls(labels, seed, epochs)


def balanced(
    n: int, seed: int, with_epoch: bool = False, labels: Tensor | None = None, progressive_epochs: int = 10
) -> WeightedEpochSampler:
    """Every class equally likely in every epoch."""
    return _weighted(labels, seed, with_epoch, None)


def progressive(
    n: int, seed: int, with_epoch: bool = False, labels: Tensor | None = None, progressive_epochs: int = 10
) -> WeightedEpochSampler:
    """Natural class frequencies at epoch 0, balanced from epoch ``progressive_epochs``."""
    return _weighted(labels, seed, with_epoch, progressive_epochs)
