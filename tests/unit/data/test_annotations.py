"""data/annotations.py and data/heads.py: reading annotation files, packing several heads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fakevideo import write_csv
from litrain.data.annotations import read_annotations
from litrain.data.heads import pack_targets
from litrain.errors import DataError


def test_csv_views_labels_and_splits(tmp_path):
    rows = [
        {"path_a": "x/1.mp4", "path_b": "", "action": "run", "score": "0.5", "split": "train"},
        {"path_a": "/abs/2.mp4", "path_b": "3.mp4", "action": "jump", "score": "1.25", "split": "val"},
    ]
    ann = read_annotations(write_csv(tmp_path / "a.csv", rows), tmp_path)
    assert ann.views == 2
    assert ann.files == [[tmp_path / "x/1.mp4", None], [Path("/abs/2.mp4"), tmp_path / "3.mp4"]]
    assert ann.labels["action"].tolist() == [1, 0] and ann.class_names == {"action": ["jump", "run"]}
    assert ann.labels["score"].dtype == np.float32 and ann.labels["score"].tolist() == [0.5, 1.25]
    assert ann.splits == ["train", "val"]


def test_csv_without_a_view_column_or_label(tmp_path):
    with pytest.raises(DataError, match="no view column: name it path"):
        read_annotations(write_csv(tmp_path / "a.csv", [{"file": "1.mp4", "y": 0}]), tmp_path)
    with pytest.raises(DataError, match="sample 1 has no 'y' label"):
        read_annotations(
            write_csv(tmp_path / "b.csv", [{"path": "1.mp4", "y": 0}, {"path": "2.mp4", "y": ""}]), tmp_path
        )


def test_several_heads_pack_into_one_float_tensor():
    t = pack_targets(
        {
            "severity": np.array([0, 2, 1]),
            "action": np.array([[0, 1], [1, 1], [0, 0]]),
            "speed": np.array([0.5, 1.5, 2.0]),
        },
        "here",
    )
    assert t.head_columns == {"severity": 1, "action": 2, "speed": 1}
    assert t.head_classes == {"severity": 3}
    assert t.y.dtype == torch.float32
    assert torch.equal(t.y, torch.tensor([[0, 0, 1, 0.5], [2, 1, 1, 1.5], [1, 0, 0, 2.0]]))
    one = pack_targets({"y": np.array([2, 0, 1])}, "here")
    assert one.y.dtype == torch.long and one.num_classes == 3 and not one.head_columns
    with pytest.raises(DataError, match=r"labels of 'speed' hold NaN or Inf \(sample 1\)"):
        pack_targets({"a": np.array([0, 1]), "speed": np.array([0.5, np.nan])}, "here")
