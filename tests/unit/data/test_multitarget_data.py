"""The arrays source reads y_<head> arrays (an .npz, or targets/<head>.npy beside x.npy)
into one packed float y with the heads' columns and classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from litrain.config import DataConfig
from litrain.data.sources import arrays
from litrain.errors import DataError


def _data(n: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x": rng.normal(size=(n, 4)).astype(np.float32),
        "y_severity": np.arange(n) % 3,
        "y_tags": (rng.random((n, 2)) > 0.5).astype(np.int64),
        "y_score": rng.normal(size=n).astype(np.float32),
    }


def _check(src, d: dict[str, np.ndarray]) -> None:
    info = src.info
    assert info.head_columns == {"severity": 1, "tags": 2, "score": 1}
    assert info.head_classes == {"severity": 3, "tags": 2}
    assert info.float_targets and info.input_shape == (4,)
    x, y = src.train
    assert y.dtype == torch.float32 and y.shape == (10, 4)
    assert torch.equal(x, torch.from_numpy(d["x"]))
    ref = np.concatenate([d["y_severity"][:, None], d["y_tags"], d["y_score"][:, None]], axis=1)
    assert torch.equal(y, torch.from_numpy(ref.astype(np.float32)))


def test_npz_with_head_arrays(tmp_path: Path):
    d = _data()
    np.savez(tmp_path / "mt.npz", **d)
    _check(arrays(DataConfig(source="arrays", root=str(tmp_path / "mt.npz"))), d)


def test_targets_dir_beside_x(tmp_path: Path):
    d = _data()
    np.save(tmp_path / "x.npy", d["x"])
    (tmp_path / "targets").mkdir()
    for name in ("severity", "tags", "score"):
        np.save(tmp_path / "targets" / f"{name}.npy", d[f"y_{name}"])
    src = arrays(DataConfig(source="arrays", root=str(tmp_path)))
    # the directory lists heads alphabetically: score, severity, tags
    assert list(src.info.head_columns) == ["score", "severity", "tags"]
    assert src.train[1].shape == (10, 4)


def test_nan_target_names_head_and_sample(tmp_path: Path):
    d = _data()
    d["y_score"][7] = np.nan
    np.savez(tmp_path / "mt.npz", **d)
    with pytest.raises(DataError, match=r"y_score holds NaN or infinite values \(sample 7\)"):
        arrays(DataConfig(source="arrays", root=str(tmp_path / "mt.npz")))
