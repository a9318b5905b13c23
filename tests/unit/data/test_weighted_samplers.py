"""The class-weighted train samplers: balanced draws are uniform over classes, a progressive
schedule goes from the natural to the balanced frequencies, every epoch is a pure function
of (seed, epoch), and DDP ranks split one global draw into equal, disjoint shares."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset
from torchdata.stateful_dataloader import StatefulDataLoader

import litrain.data.sharding as sharding
from litrain.config import Config, DataConfig
from litrain.data.datamodule import DataModule
from litrain.data.inmemory import InMemoryLoader
from litrain.data.samplers import WeightedEpochSampler, WeightedIndexSampler
from litrain.data.sharding import TrainShardSampler, shard_loader
from litrain.errors import ConfigError
from litrain.registry import SAMPLERS

COUNTS = [5000, 2500, 1250, 1000, 250]  # 10k samples, 20:1 imbalance


def _labels(counts=COUNTS) -> torch.Tensor:
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]


def test_balanced_draws_are_uniform_over_classes():
    labels = _labels()
    sampler = SAMPLERS.get("balanced")(len(labels), 5, labels=labels)
    drawn = torch.bincount(labels[list(sampler)], minlength=5).double()
    assert drawn.sum() == 10_000
    expected = 10_000 / 5
    chi2 = float(((drawn - expected) ** 2 / expected).sum())
    assert chi2 < 18.47  # chi-square, 4 degrees of freedom, p = 0.001
    assert torch.all((drawn - expected).abs() < 0.05 * expected), drawn


def test_progressive_goes_from_natural_to_balanced():
    labels = _labels()
    sampler = SAMPLERS.get("progressive")(len(labels), 5, labels=labels, progressive_epochs=4)
    natural = torch.tensor(COUNTS, dtype=torch.float64) / 10_000
    balanced = torch.full((5,), 0.2, dtype=torch.float64)
    torch.testing.assert_close(sampler.class_probabilities(0), natural)
    torch.testing.assert_close(sampler.class_probabilities(2), (natural + balanced) / 2)
    torch.testing.assert_close(sampler.class_probabilities(4), balanced)
    torch.testing.assert_close(sampler.class_probabilities(9), balanced)
    # epoch 0's sample weights are all equal: natural frequencies, every sample alike
    torch.testing.assert_close(sampler.sample_weights(0), torch.full((10_000,), 1e-4, dtype=torch.float64))


def test_a_class_without_samples_is_never_drawn():
    labels = torch.tensor([0, 0, 0, 2])  # class 1 absent
    sampler = WeightedEpochSampler(labels, seed=1)
    torch.testing.assert_close(
        sampler.class_probabilities(0), torch.tensor([0.5, 0.0, 0.5], dtype=torch.float64)
    )


def test_each_epoch_is_a_function_of_seed_and_epoch():
    labels = _labels()
    a, b = WeightedEpochSampler(labels, seed=3), WeightedEpochSampler(labels, seed=3)
    a.set_epoch(2)
    b.set_epoch(0)
    first = list(b)
    b.set_epoch(2)
    assert list(a) == list(b) != first
    assert list(a) != list(WeightedEpochSampler(labels, seed=4).order(2).tolist())
    pairs = WeightedIndexSampler(labels, seed=3)
    pairs.set_epoch(2)
    assert list(pairs) == [(2, i) for i in a]


@pytest.mark.parametrize("world", [2, 3])
def test_ranks_split_one_global_draw_equally_and_disjointly(monkeypatch, world):
    labels = _labels([7, 3, 1])  # 11 samples: padded to a multiple of the world size
    sampler = WeightedIndexSampler(labels, seed=9)
    sampler.set_epoch(1)
    global_draw = sampler.order(1).tolist()
    loader = StatefulDataLoader(TensorDataset(torch.arange(11)), batch_size=2, sampler=sampler)
    shares = []
    for rank in range(world):
        monkeypatch.setattr(sharding, "rank_and_world", lambda r=rank: (r, world))
        sharded = shard_loader(loader, train=True, seed=0)
        assert isinstance(sharded.sampler, TrainShardSampler)
        sharded.sampler.set_epoch(1)
        shares.append(list(sharded.sampler))
    per_rank = -(-11 // world)
    assert [len(s) for s in shares] == [per_rank] * world
    assert all(epoch == 1 for s in shares for epoch, _ in s)
    # rank r holds positions r, r + world, ...: no position twice, together the global draw
    padded = global_draw + global_draw[: per_rank * world - 11]
    rebuilt = [None] * (per_rank * world)
    for rank, share in enumerate(shares):
        rebuilt[rank::world] = [i for _, i in share]
    assert rebuilt == padded


def test_in_memory_loader_follows_the_weighted_order():
    labels = _labels([30, 6, 4])
    x = torch.arange(40, dtype=torch.float32).view(40, 1)
    sampler = WeightedEpochSampler(labels, seed=2)
    loader = InMemoryLoader(x, labels, batch_size=8, sampler=sampler)
    loader.set_epoch(3)
    got = torch.cat([xb for xb, _ in loader]).view(-1).long()
    assert got.tolist() == sampler.order(3).tolist()


def test_stateful_loader_resumes_mid_epoch_at_the_same_draws():
    labels = _labels([30, 6, 4])
    ds = TensorDataset(torch.arange(40))

    def loader():
        s = WeightedEpochSampler(labels, seed=2)
        s.set_epoch(1)
        return StatefulDataLoader(ds, batch_size=4, sampler=s)

    whole = [b[0].tolist() for b in loader()]
    first = loader()
    it = iter(first)
    for _ in range(3):
        next(it)
    state = first.state_dict()
    resumed = loader()
    resumed.load_state_dict(state)
    assert [b[0].tolist() for b in resumed] == whole[3:]


def test_datamodule_builds_the_configured_sampler_on_both_paths():
    for in_memory in ("true", "false"):
        dm = DataModule(DataConfig(source="digits", sampler="progressive", in_memory=in_memory), seed=4)
        dm.setup()
        sampler = dm.train_dataloader().sampler
        assert isinstance(sampler, WeightedEpochSampler) and sampler.progressive_epochs == 10
        train_y = dm.train_set.base[1][dm.train_set.indices]
        assert torch.equal(sampler.labels, train_y)


def test_multitask_sampler_head(tmp_path):
    g = np.random.default_rng(0)
    y_kind = np.array([0] * 40 + [1] * 8 + [2] * 2)
    path = tmp_path / "mt.npz"
    np.savez(path, x=g.normal(size=(50, 4)).astype("float32"), y_kind=y_kind, y_size=g.normal(size=50))
    heads = {"kind": {"type": "classification"}, "size": {"type": "regression"}}
    task = {"type": "multitask", "heads": heads}
    cfg = Config(
        data={"source": "arrays", "root": str(path), "sampler": "balanced", "sampler_head": "kind"}, task=task
    )
    dm = DataModule(cfg.data, cfg.task, seed=1)
    dm.setup()
    assert dm.sampler_labels.tolist() == y_kind[dm.train_set.indices.numpy()].tolist()
    with pytest.raises(ValueError, match="needs data.sampler_head.*choose one of \\['kind'\\]"):
        Config(data={"sampler": "balanced"}, task=task)
    with pytest.raises(ValueError, match="sampler_head=size is not a classification or binary head"):
        Config(data={"sampler": "balanced", "sampler_head": "size"}, task=task)
    with pytest.raises(ValueError, match="drop data.sampler_head"):
        Config(data={"sampler_head": "kind"})


def test_weighted_sampling_refuses_targets_without_one_class_label(tmp_path):
    path = tmp_path / "ml.npz"
    np.savez(path, x=np.zeros((20, 3), "float32"), y=np.eye(4, dtype="int64")[np.arange(20) % 4])
    dm = DataModule(DataConfig(source="arrays", root=str(path), sampler="balanced"), seed=1)
    with pytest.raises(ConfigError, match="these targets are multilabel: set data.sampler random"):
        dm.setup()
