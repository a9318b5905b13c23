"""The DataModule's train order comes from SAMPLERS["random"]: a seeded shuffle per epoch."""

import torch

from litrain.config import DataConfig
from litrain.data.datamodule import DataModule
from litrain.data.samplers import EpochIndexSampler, EpochShuffleSampler
from litrain.registry import SAMPLERS


def test_random_is_the_seeded_epoch_shuffle():
    make = SAMPLERS.get("random")
    s = make(10, 3)
    assert type(s) is EpochShuffleSampler
    s.set_epoch(2)
    assert list(s) == torch.randperm(10, generator=torch.Generator().manual_seed(5)).tolist()
    pairs = make(10, 3, with_epoch=True)
    assert isinstance(pairs, EpochIndexSampler)
    pairs.set_epoch(2)
    assert list(pairs) == [(2, i) for i in s]


def test_datamodule_train_loader_uses_the_registered_sampler():
    dm = DataModule(DataConfig(source="digits", in_memory="false", batch_size=32), seed=7)
    dm.setup()
    sampler = dm.train_dataloader().sampler
    assert isinstance(sampler, EpochIndexSampler) and sampler.seed == 7 and sampler.n == len(dm.train_set)
