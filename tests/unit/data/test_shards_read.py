"""The shard reader's epoch: every rank the same number of full batches whatever the shard
count, no sample twice, the remainder ``total % (world * batch)`` left out; a seeded shuffle
that changes with the epoch; and a mid-epoch resume through StatefulDataLoader's state that
continues with exactly the unseen samples.

Ranks are simulated in one process (the dataset asks ``rank_and_world`` in the main process
and hands it to its workers); tests/distributed runs the same with real process groups."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

from litrain.config import DataConfig
from litrain.data.datamodule import DataModule
from litrain.data.shards import partition, read
from litrain.errors import DataError
from shard_data import pattern, sample_ids, write_shards


def _loader(root: Path, n_shards: int, monkeypatch, rank: int, world: int, **data):
    monkeypatch.setattr(read, "rank_and_world", lambda: (rank, world))
    cfg = DataConfig(
        source="shards",
        train_urls=pattern(root, n_shards),
        val_urls=pattern(root, n_shards),
        normalize=False,
        cache_dir=str(root / "cache"),
        **data,
    )
    dm = DataModule(cfg, seed=7)
    dm.setup()
    return dm


def _epoch(loader, epoch: int) -> list[list[int]]:
    loader.sampler.set_epoch(epoch)
    return [sample_ids(x) for x, _ in loader]


@pytest.mark.parametrize(
    ("counts", "world", "workers", "batch"),
    [
        ([7, 5, 9, 3], 2, 2, 4),  # 4 shards, 2 ranks x 2 workers, 24 samples: 8 left out
        ([3, 11, 1, 6, 2], 3, 2, 2),  # uneven shard sizes, 5 shards on 3 ranks
        ([5, 4], 2, 3, 2),  # 6 rank-workers, 2 shards
    ],
    ids=["not-divisible", "uneven-sizes", "more-readers-than-shards"],
)
def test_every_rank_gets_equal_full_batches_and_no_sample_twice(
    tmp_path, monkeypatch, counts, world, workers, batch
):
    write_shards(tmp_path, counts)
    total = sum(counts)
    for epoch in (0, 1):
        seen: Counter[int] = Counter()
        lengths = set()
        for rank in range(world):
            dm = _loader(
                tmp_path, len(counts), monkeypatch, rank, world, batch_size=batch, num_workers=workers
            )
            loader = dm.train_dataloader()
            batches = _epoch(loader, epoch)
            assert len(batches) == len(loader) == total // (world * batch)
            assert all(len(b) == batch for b in batches)
            lengths.add(len(batches))
            seen.update(i for b in batches for i in b)
        assert len(lengths) == 1
        assert max(seen.values()) == 1
        assert set(seen) <= set(range(total))
        assert total - len(seen) == total % (world * batch)  # the stated remainder, no more


def test_evaluation_reads_every_sample_once_across_ranks(tmp_path, monkeypatch):
    write_shards(tmp_path, [7, 5, 9, 3])
    seen: Counter[int] = Counter()
    for rank in range(3):
        dm = _loader(tmp_path, 4, monkeypatch, rank, 3, batch_size=4, num_workers=2)
        loader = dm.val_dataloader()
        batches = _epoch(loader, 0)
        assert len(batches) == len(loader)
        seen.update(i for b in batches for i in b)
    assert seen == Counter(range(24))


def test_shuffle_is_seeded_by_seed_and_epoch(tmp_path, monkeypatch):
    write_shards(tmp_path, [10, 10, 10])
    dm = _loader(tmp_path, 3, monkeypatch, 0, 1, batch_size=5, shuffle_buffer=8)
    loader = dm.train_dataloader()
    e0, e1, again = _epoch(loader, 0), _epoch(loader, 1), _epoch(loader, 0)
    assert e0 == again
    assert e0 != e1
    assert sorted(i for b in e0 for i in b) == list(range(30))
    assert [i for b in e0 for i in b] != list(range(30))  # samples mixed, not only shards


@pytest.mark.parametrize(
    ("world", "workers"), [(1, 0), (1, 2), (2, 2)], ids=["1proc", "1proc-2workers", "2ranks-2workers"]
)
def test_resume_from_loader_state_continues_with_the_unseen_samples(tmp_path, monkeypatch, world, workers):
    write_shards(tmp_path, [9, 6, 11, 4])
    epoch, stop_after = 1, 3
    for rank in range(world):
        data = {"batch_size": 3, "num_workers": workers, "shuffle_buffer": 6}
        whole = _epoch(_loader(tmp_path, 4, monkeypatch, rank, world, **data).train_dataloader(), epoch)

        first = _loader(tmp_path, 4, monkeypatch, rank, world, **data).train_dataloader()
        first.sampler.set_epoch(epoch)
        it, before = iter(first), []
        for _ in range(stop_after):
            before.append(sample_ids(next(it)[0]))
        state = first.state_dict()
        del it, first  # the run dies here

        resumed = _loader(tmp_path, 4, monkeypatch, rank, world, **data).train_dataloader()
        resumed.sampler.set_epoch(epoch)
        resumed.load_state_dict(state)
        after = [sample_ids(x) for x, _ in resumed]
        assert before + after == whole
        assert Counter(i for b in before + after for i in b) == Counter(i for b in whole for i in b)
        assert _epoch(resumed, epoch + 1) != whole  # the next epoch starts afresh


def test_worker_spans_split_a_rank_into_whole_batches():
    span = partition.rank_span(103, 1, 2, 10, train=True)
    assert span == (50, 100)
    parts = [partition.worker_span(span, w, 3, 10) for w in range(3)]
    assert parts == [(50, 60), (60, 80), (80, 100)]
    assert partition.pieces([30, 30, 43], [2, 0, 1], (40, 80)) == [
        partition.Piece(2, 40, 43),
        partition.Piece(0, 0, 30),
        partition.Piece(1, 0, 7),
    ]


def test_persistent_workers_follow_the_epoch(tmp_path, monkeypatch):
    write_shards(tmp_path, [10, 7, 9])
    data = {"batch_size": 4, "num_workers": 2, "shuffle_buffer": 5}
    fresh = _loader(tmp_path, 3, monkeypatch, 0, 1, **data).train_dataloader()
    kept = _loader(tmp_path, 3, monkeypatch, 0, 1, persistent_workers=True, **data).train_dataloader()
    assert [_epoch(kept, e) for e in (0, 1, 2)] == [_epoch(fresh, e) for e in (0, 1, 2)]
    assert _epoch(fresh, 0) != _epoch(fresh, 1)


def test_an_error_in_a_worker_is_one_line(tmp_path, monkeypatch):
    # the 300th image has another size: found by a loader worker, past the 256 probed
    write_shards(tmp_path, [310], kind="png", sizes=[8] * 299 + [12] + [8] * 10)
    dm = _loader(tmp_path, 1, monkeypatch, 0, 1, batch_size=10, num_workers=2, shuffle_buffer=0)
    with pytest.raises(DataError) as info:
        _epoch(dm.train_dataloader(), 0)
    msg = str(info.value)
    assert "\n" not in msg and "000299.png" in msg and "data.image_size" in msg


def test_json_targets_are_packed_per_head(tmp_path, monkeypatch):
    write_shards(tmp_path, [6, 6], targets="json")
    dm = _loader(tmp_path, 2, monkeypatch, 0, 1, batch_size=4, shuffle_buffer=0)
    assert dm.info.head_columns == {"kind": 1, "value": 2} and dm.info.float_targets
    dm.train_set.set_epoch(0)
    for x, y in dm.val_dataloader():
        ids = sample_ids(x)
        assert torch.equal(y, torch.tensor([[i % 3, i / 10, -i / 10] for i in ids], dtype=torch.float32))


def test_counts_come_from_the_writers_index(tmp_path, monkeypatch):
    from litrain.data.shards.index import ShardEntry, ShardIndex, file_sha256, write_index

    write_shards(tmp_path, [5, 6, 7])
    names = [f"train-{i:06d}.tar" for i in range(3)]
    shards = [
        ShardEntry(n, c, (tmp_path / n).stat().st_size, file_sha256(tmp_path / n))
        for n, c in zip(names, [5, 6, 7], strict=True)
    ]
    index = ShardIndex("train", "npy", "cls", class_names=["a", "b", "c"], shards=shards)
    write_index(tmp_path / "train.index.json", index)
    dm = _loader(tmp_path, 3, monkeypatch, 0, 1, batch_size=3)
    assert dm.info.class_names == ["a", "b", "c"]
    assert dm.train_set.shards.counts == [5, 6, 7]
    assert list(dm.train_set.shards.tables) == [0]  # only the probed shard was opened up front
    assert sorted(i for b in _epoch(dm.train_dataloader(), 0) for i in b) == list(range(18))


@pytest.mark.parametrize("shuffle_buffer", [0, 7])
def test_batches_are_the_same_with_any_number_of_workers(tmp_path, monkeypatch, shuffle_buffer):
    # a batch used to hold only the samples of the worker that built it, so the batches (and
    # the model trained on them) changed with data.num_workers
    write_shards(tmp_path, [9, 6, 11, 4, 8])
    runs = {}
    for workers in (0, 1, 2, 4):
        data = {"batch_size": 3, "num_workers": workers, "shuffle_buffer": shuffle_buffer}
        dm = _loader(tmp_path, 5, monkeypatch, 0, 1, **data)
        runs[workers] = (
            [_epoch(dm.train_dataloader(), e) for e in (0, 1)],
            _epoch(dm.val_dataloader(), 0),
        )
    assert runs[0] == runs[1] == runs[2] == runs[4]
    train, val = runs[0]
    assert len(train[0]) == 38 // 3 and train[0] != train[1]
    assert [i for b in val for i in b] == list(range(38))
