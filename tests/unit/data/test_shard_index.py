"""The shard index file: round trip, validation errors, and the ``.json`` target member."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from litrain.data.base import DataInfo
from litrain.data.shards.encode import target_json
from litrain.data.shards.index import ShardEntry, ShardIndex, read_index, write_index
from litrain.errors import DataError


def _index() -> ShardIndex:
    shards = [
        ShardEntry("train-000000.tar", 3, 10240, "a" * 64),
        ShardEntry("train-000001.tar", 2, 10240, "b" * 64),
    ]
    return ShardIndex(
        "train", "png", "cls", "f" * 64, class_names=["a", "b"], image_size=[1, 8, 8], shards=shards
    )


def test_index_round_trips_and_states_its_totals(tmp_path: Path) -> None:
    path = tmp_path / "train.index.json"
    write_index(path, _index())
    raw = json.loads(path.read_text())
    assert (raw["format"], raw["version"], raw["total_samples"]) == ("litrain-shards", 1, 5)
    assert read_index(path) == _index()
    assert [p.name for p in tmp_path.iterdir()] == ["train.index.json"]  # no temp file left


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, "is not a litrain shard index"),
        ({"version": 9}, "index version 9"),
        ({"sample_ext": "bmp"}, "sample_ext 'bmp'"),
        ({"total_samples": 7}, "total_samples 7 differs"),
        ({"shards": [{"name": "x.tar"}]}, "malformed field"),
    ],
)
def test_a_bad_index_is_one_clear_error(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "train.index.json"
    path.write_text(json.dumps({**_index().to_dict(), **change}))
    with pytest.raises(DataError, match=message):
        read_index(path)


def test_multitask_targets_become_one_value_per_head() -> None:
    info = DataInfo(
        (3, 8, 8), 0, head_columns={"kind": 1, "box": 2}, head_classes={"kind": 4}, float_targets=True
    )
    assert target_json(torch.tensor([2.0, 0.5, -1.25]), info) == {"kind": 2, "box": [0.5, -1.25]}
    assert target_json(torch.tensor(0.75), DataInfo((4,), 0, float_targets=True)) == 0.75
