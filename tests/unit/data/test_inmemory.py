"""The in-memory loader gives exactly the DataLoader's batches (order, values, short last
batch), and its batch-wise augmentation is a reproducible flip/crop."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from litrain.config import DataConfig
from litrain.data.datamodule import DataModule
from litrain.data.inmemory import BatchAugment, InMemoryLoader, in_memory_loader
from litrain.data.samplers import EpochShuffleSampler
from litrain.data.splits import SplitDataset
from litrain.errors import DataError


def _data(n=103):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 3, 4, 4, generator=g), torch.randint(0, 5, (n,), generator=g)


@pytest.mark.parametrize("epoch", [0, 3])
def test_same_batches_as_a_dataloader_with_the_epoch_sampler(epoch):
    x, y = _data()
    sampler = EpochShuffleSampler(len(x), seed=7)
    reference = DataLoader(TensorDataset(x, y), batch_size=10, sampler=sampler)
    loader = InMemoryLoader(x, y, batch_size=10, shuffle=True, seed=7)
    sampler.set_epoch(epoch)
    loader.sampler.set_epoch(epoch)  # what Lightning and the native loop call
    ours, theirs = list(loader), list(reference)
    assert len(loader) == len(reference) == 11 and len(ours) == 11
    assert ours[-1][0].shape[0] == 3  # the short last batch is kept
    for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_epochs_differ_and_drop_last():
    x, y = _data()
    loader = InMemoryLoader(x, y, batch_size=10, shuffle=True, seed=1, drop_last=True)
    first = torch.cat([b for _, b in loader])
    loader.set_epoch(1)
    second = torch.cat([b for _, b in loader])
    assert len(loader) == 10 and len(first) == len(second) == 100
    assert not torch.equal(first, second)


def test_unshuffled_is_in_order():
    x, y = _data(25)
    got = torch.cat([b for b, _ in InMemoryLoader(x, y, batch_size=8)])
    assert torch.equal(got, x)


def test_datamodule_in_memory_equals_the_per_sample_path():
    """Normalization applied to the whole split is bit-identical to per-sample transforms."""

    def batches(mode):
        dm = DataModule(DataConfig(source="digits", in_memory=mode, batch_size=50), seed=3)
        dm.setup("fit")
        train, val = dm.train_dataloader(), dm.val_dataloader()
        train.sampler.set_epoch(2)
        return type(train).__name__, list(train), list(val)

    kind_a, train_a, val_a = batches("true")
    kind_b, train_b, val_b = batches("false")
    assert kind_a == "InMemoryLoader" and kind_b != "InMemoryLoader"
    for (xa, ya), (xb, yb) in zip(train_a + val_a, train_b + val_b, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_crop_and_flip_are_per_sample_shifts_of_the_padded_batch():
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).view(2, 1, 8, 8)
    aug = BatchAugment(flip=False, crop=True)
    out = aug(x, torch.Generator().manual_seed(0))
    padded = F.pad(x, (1, 1, 1, 1))
    for b in range(2):
        windows = [padded[b, :, i : i + 8, j : j + 8] for i in range(3) for j in range(3)]
        assert any(torch.equal(out[b], w) for w in windows)
    flips = BatchAugment(flip=True, crop=False)(x.repeat(16, 1, 1, 1), torch.Generator().manual_seed(0))
    flipped = [torch.equal(f, x[i % 2].flip(-1)) for i, f in enumerate(flips)]
    kept = [torch.equal(f, x[i % 2]) for i, f in enumerate(flips)]
    assert all(a or b for a, b in zip(flipped, kept, strict=True)) and any(flipped) and any(kept)


def test_augmentation_is_reproducible_per_epoch_and_leaves_the_global_rng_alone():
    x, y = _data(40)
    loader = InMemoryLoader(x, y, 8, shuffle=True, seed=5, augment=BatchAugment(True, True))
    torch.manual_seed(0)
    before = torch.get_rng_state()
    a = [b for b, _ in loader]
    assert torch.equal(torch.get_rng_state(), before)
    b = [b for b, _ in loader]
    loader.set_epoch(1)
    c = [b for b, _ in loader]
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    assert not all(torch.equal(p, q) for p, q in zip(a, c, strict=True))


def test_modes():
    x, y = _data(10)
    ds = SplitDataset((x, y), torch.arange(10))
    assert in_memory_loader(ds, "false", 4, False, 0) is None
    assert in_memory_loader(ds, "auto", 4, False, 0, max_bytes=10) is None  # too big for auto
    assert isinstance(in_memory_loader(ds, "true", 4, False, 0, max_bytes=10), InMemoryLoader)
    files = SplitDataset(TensorDataset(x, y), torch.arange(10))  # not tensors in memory
    assert in_memory_loader(files, "auto", 4, False, 0) is None
    with pytest.raises(DataError, match="data.in_memory=true needs a source held as tensors"):
        in_memory_loader(files, "true", 4, False, 0)
