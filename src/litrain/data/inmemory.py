"""An in-memory tensor loader for data sets that fit in memory (digits, MNIST-, CIFAR-size).

A torch DataLoader over a TensorDataset pays per sample: ``__getitem__``, the transform,
then ``collate`` stacks the samples again. Here the whole split is normalized once and held
(on the training device); an epoch draws one index permutation and slices batches out of
it, and augmentation runs on the whole batch. Measured on 50k 3x32x32 arrays, batch 256:
see benchmarks/RESULTS.md.

Sample order is the DataLoader's exactly: the order of epoch ``e`` is the train sampler's
``order(e)`` (``EpochShuffleSampler(n, seed)``: ``randperm`` seeded with ``seed + e``; a
class-weighted sampler's draw likewise), batches are taken in order and the last one is
short unless ``drop_last``. So switching the loader on
or off changes no number (without augmentation), in either engine.

Under ``torch.distributed`` each rank takes every ``world``-th index of the padded
permutation, as DistributedSampler does, so the in-memory path also shards correctly.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from litrain.core.dist import rank_and_world
from litrain.data.samplers import EpochShuffleSampler
from litrain.data.splits import Normalize, SplitDataset
from litrain.data.transforms import Augment

Batch = tuple[torch.Tensor, torch.Tensor]


class BatchAugment:
    """Random horizontal flip and/or random crop after zero padding by ``h // 8`` (at least
    1 px), drawn per sample but applied to the whole batch at once. Random numbers come from
    a generator seeded by (seed, epoch), so augmentation is reproducible and identical in
    both engines and after a resume."""

    def __init__(self, flip: bool, crop: bool, pad_scale: float = 1.0, flip_prob: float = 0.5) -> None:
        self.flip, self.crop = flip, crop
        self.sizer = Augment(flip, crop, pad_scale, flip_prob)  # the per-sample preset's numbers

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        b = x.shape[0]
        if self.flip:
            mask = (torch.rand(b, generator=gen) < self.sizer.flip_prob).to(x.device)
            x = torch.where(mask.view(-1, *([1] * (x.ndim - 1))), x.flip(-1), x)
        if self.crop:
            h, w = x.shape[-2:]
            pad = self.sizer.pad(h)
            padded = F.pad(x, (pad, pad, pad, pad))
            off = torch.randint(0, 2 * pad + 1, (2, b), generator=gen).to(x.device)
            rows = (off[0].view(b, 1) + torch.arange(h, device=x.device)).view(b, 1, h, 1)
            cols = (off[1].view(b, 1) + torch.arange(w, device=x.device)).view(b, 1, 1, w)
            batch = torch.arange(b, device=x.device).view(b, 1, 1, 1)
            chan = torch.arange(x.shape[1], device=x.device).view(1, -1, 1, 1)
            x = padded[batch, chan, rows, cols]
        return x


class InMemoryLoader:
    """Iterates ``(x, y)`` batches of tensors held in memory. Has ``sampler.set_epoch`` (and
    ``set_epoch``) like a DataLoader with EpochShuffleSampler, so Lightning and the native
    loop advance its shuffle the same way."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        augment: BatchAugment | None = None,
        sampler: EpochShuffleSampler | None = None,
    ) -> None:
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
        self.x, self.y = x, y
        self.batch_size, self.drop_last, self.seed = batch_size, drop_last, seed
        self.augment = augment
        if sampler is None and shuffle:
            sampler = EpochShuffleSampler(len(x), seed)
        # the train order: any litrain sampler (its order(epoch)), e.g. a class-weighted one
        self.sampler: EpochShuffleSampler | None = sampler
        self.batch_sampler = None  # DataLoader's attribute; Lightning inspects it

    @property
    def device(self) -> torch.device:
        return self.x.device

    def to(self, device: torch.device | str) -> InMemoryLoader:
        """Move the data to ``device`` once, so batches are sliced where the model runs."""
        self.x, self.y = self.x.to(device), self.y.to(device)
        return self

    def set_epoch(self, epoch: int) -> None:
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    @property
    def epoch(self) -> int:
        return self.sampler.epoch if self.sampler is not None else 0

    def _num_samples(self) -> int:
        _, world = rank_and_world()
        return -(-len(self.x) // world)  # padded to a multiple of world, like DistributedSampler

    def __len__(self) -> int:
        n = self._num_samples()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _indices(self) -> torch.Tensor | None:
        """This rank's sample order, or None for the whole split in order (plain slices)."""
        rank, world = rank_and_world()
        n = len(self.x)
        if self.sampler is None and world == 1:
            return None
        if self.sampler is not None:
            order = self.sampler.order(self.sampler.epoch)
        else:
            order = torch.arange(n)
        if world > 1:
            total = self._num_samples() * world
            order = torch.cat([order, order[: total - n]])[rank:total:world]
        return order.to(self.x.device)

    def __iter__(self) -> Iterator[Batch]:
        order = self._indices()
        n = len(self.x) if order is None else len(order)
        bs = self.batch_size
        stop = n - n % bs if self.drop_last else n
        gen = None
        if self.augment is not None:  # its own stream: never touches the global RNG
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + 7919 + self.epoch)
        for start in range(0, stop, bs):
            if order is None:  # eval splits: views, no copy
                xb, yb = self.x[start : start + bs], self.y[start : start + bs]
            else:
                idx = order[start : start + bs]
                xb, yb = self.x.index_select(0, idx), self.y.index_select(0, idx)
            if self.augment is not None and gen is not None:
                xb = self.augment(xb, gen)
            yield xb, yb


def nbytes(*tensors: torch.Tensor) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def split_tensors(ds: object) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The rows of a litrain SplitDataset over in-memory tensors, normalized as its transform
    would (bit for bit: the same elementwise ops on the whole tensor), or None when the split
    is file-backed or has a transform this loader cannot apply batch-wise."""
    if not isinstance(ds, SplitDataset) or not isinstance(ds.base, tuple):
        return None
    tf = ds.transform
    if tf is not None and not isinstance(tf, Normalize | Augment):
        return None
    if isinstance(tf, Normalize) and (tf.before is not None or not isinstance(tf.then, Augment | None)):
        return None  # pixel ops before normalization, class-aware or per-view stages
    x, y = ds.base[0][ds.indices], ds.base[1][ds.indices]
    if isinstance(tf, Normalize):
        x = (x - tf.mean) / tf.std
    return x, y


def batch_augment_of(ds: object) -> BatchAugment | None:
    tf = getattr(ds, "transform", None)
    aug = tf.then if isinstance(tf, Normalize) else tf
    if not isinstance(aug, Augment):
        return None
    return BatchAugment(aug.flip, aug.crop, aug.pad_scale, aug.flip_prob)


def in_memory_loader(
    ds: object,
    mode: str,
    batch_size: int,
    shuffle: bool,
    seed: int,
    device: torch.device | str | None = None,
    max_bytes: int = 2 << 30,
    sampler: EpochShuffleSampler | None = None,
) -> InMemoryLoader | None:
    """The in-memory loader for ``ds`` when ``mode`` (auto|true|false) allows it; None means
    use a DataLoader. ``true`` on a split that cannot be held raises a DataError."""
    from litrain.errors import DataError

    if mode == "false":
        return None
    tensors = split_tensors(ds)
    if tensors is None:
        if mode == "true" and isinstance(ds, SplitDataset) and isinstance(ds.base, tuple):
            raise DataError(
                "data.in_memory=true serves whole batches, but this split's augmentation runs per "
                "sample (colour/policy ops, class-aware or per-view strength): set data.in_memory "
                "auto or false, or data.augment_device device (flip/crop/jitter presets)"
            )
        if mode == "true":
            raise DataError(
                "data.in_memory=true needs a source held as tensors (digits, mnist, cifar, "
                "arrays, synthetic); this split reads files: set data.in_memory=auto or false"
            )
        return None
    size = nbytes(*tensors)
    if mode == "auto" and size > max_bytes:
        return None
    augment = batch_augment_of(ds) if shuffle else None
    loader = InMemoryLoader(
        *tensors, batch_size, shuffle=shuffle, seed=seed, augment=augment, sampler=sampler
    )
    return loader.to(device) if device is not None else loader
