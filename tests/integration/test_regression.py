"""task.type regression end to end: both engines train a scalar and a field config to the
same numbers (every step's loss, every epoch's metrics); ``litrain test`` and ``litrain predict`` (predictions.csv, predictions.npy +
targets.npy) agree with the metrics; normalize_targets reports original units."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import litrain
from helpers import step_loss_tensor
from litrain.cli import run
from litrain.run.loaded import build_for_config

FIELD_MODEL = {"model.class_path": "field_modules.FieldConv", "model.init_args": {"width": 8}}


# one intra-op thread: both engines then sum in the same order (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_thread")


def write_scalar(path: Path, scale: float = 1.0, k: int = 0) -> Path:
    """y = x . w + 0.3 (k = 0: a scalar), or k columns of linear functions of x."""
    g = np.random.default_rng(0)
    x = g.normal(size=(160, 4)).astype(np.float32)
    w = g.normal(size=(4, max(k, 1))).astype(np.float32)
    y = x @ w + 0.3
    np.savez(path, x=x, y=(scale * (y[:, 0] if k == 0 else y)).astype(np.float32))
    return path


def write_field(path: Path) -> Path:
    """(2, 16) fields in, (2, 16) fields out: a smoothing and a product of the inputs."""
    g = np.random.default_rng(1)
    x = g.normal(size=(96, 2, 16)).astype(np.float32)
    smooth = (np.roll(x[:, 0], 1, -1) + x[:, 0] + np.roll(x[:, 0], -1, -1)) / 3
    y = np.stack([smooth, x[:, 0] * x[:, 1]], 1)
    np.savez(path, x=x, y=y.astype(np.float32))
    return path


def fit(run_dir: Path, data: Path, engine: str = "lightning", **overrides: Any) -> litrain.api.RunResult:
    cfg = {
        "data.source": "arrays",
        "data.root": str(data),
        "data.batch_size": 16,
        "data.test_split": 0.2,
        "task.type": "regression",
        "trainer.max_epochs": 3,
        "run.engine": engine,
        **overrides,
    }
    return litrain.fit(run_dir=run_dir, quiet=True, overwrite=True, **cfg)


def history(run_dir: Path) -> list[dict[str, float]]:
    return json.loads((run_dir / "history.json").read_text())


@pytest.mark.parametrize("case", ["scalar", "field"])
def test_both_engines_train_regression_to_the_same_numbers(tmp_path, case):
    data = write_scalar(tmp_path / "s.npz") if case == "scalar" else write_field(tmp_path / "f.npz")
    extra = {} if case == "scalar" else FIELD_MODEL
    extra = {**extra, "trainer.log_every_n_steps": 1}  # every step's loss in metrics.csv
    light = fit(tmp_path / "lightning", data, "lightning", **extra)
    native = fit(tmp_path / "native", data, "native", **extra)
    steps_l, steps_n = step_loss_tensor(light.run_dir), step_loss_tensor(native.run_dir)
    assert len(steps_l) >= 12
    torch.testing.assert_close(steps_n, steps_l, rtol=1e-5, atol=0)
    rows_l, rows_n = history(light.run_dir), history(native.run_dir)
    assert len(rows_l) == len(rows_n) == 3
    names = {"scalar": ["val/mse", "val/rmse", "val/mae", "val/r2"]}.get(
        case, ["val/mse", "val/mae", "val/nrmse", "val/rel_l2", "val/nrmse/ch0", "val/nrmse/ch1"]
    )
    for a, b in zip(rows_l, rows_n, strict=True):
        for key in ["train/loss", "val/loss", *names]:
            assert b[key] == pytest.approx(a[key], rel=1e-5), key
    assert light.summary["monitor"] == "val/loss"
    # it learns: the last epoch's validation loss is below the first's
    assert rows_l[-1]["val/loss"] < rows_l[0]["val/loss"]
    # the default loss, recorded in the run's config: mse, rel_l2 for fields
    assert light.config.task.loss == {"scalar": "mse", "field": "rel_l2"}[case]


def test_test_and_predict_of_a_vector_regression(tmp_path):
    result = fit(tmp_path / "run", write_scalar(tmp_path / "v.npz", k=3))
    rd = str(result.run_dir)
    assert run(["test", "--run-dir", rd, "--quiet"]) == 0
    metrics = json.loads((result.run_dir / "test_metrics.json").read_text())["metrics"]
    assert run(["predict", "--run-dir", rd, "--quiet"]) == 0
    with open(result.run_dir / "predictions.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["index", *(f"target_{j}" for j in range(3)), *(f"pred_{j}" for j in range(3))]
    assert len(rows) == 32  # test_split 0.2 of 160
    t = np.array([[float(r[f"target_{j}"]) for j in range(3)] for r in rows])
    p = np.array([[float(r[f"pred_{j}"]) for j in range(3)] for r in rows])
    assert metrics["test/mse"] == pytest.approx(((p - t) ** 2).mean(), rel=1e-5)
    assert metrics["test/mae"] == pytest.approx(np.abs(p - t).mean(), rel=1e-5)
    from sklearn.metrics import r2_score

    assert metrics["test/r2"] == pytest.approx(r2_score(t, p), rel=1e-4)


def test_predict_of_a_field_regression_writes_npy_files(tmp_path):
    result = fit(tmp_path / "run", write_field(tmp_path / "f.npz"), **FIELD_MODEL)
    rd = str(result.run_dir)
    assert run(["test", "--run-dir", rd, "--quiet"]) == 0
    metrics = json.loads((result.run_dir / "test_metrics.json").read_text())["metrics"]
    assert run(["predict", "--run-dir", rd, "--quiet"]) == 0
    p = np.load(result.run_dir / "predictions.npy")
    t = np.load(result.run_dir / "targets.npy")
    assert p.shape == t.shape == (19, 2, 16)  # test_split 0.2 of 96
    assert not (result.run_dir / "predictions.csv").exists()
    ratio = np.linalg.norm(p - t, axis=2) / np.linalg.norm(t, axis=2)  # (N, C)
    assert metrics["test/nrmse"] == pytest.approx(ratio.mean(), rel=1e-5)
    assert metrics["test/nrmse/ch1"] == pytest.approx(ratio[:, 1].mean(), rel=1e-5)
    rel_l2 = np.sqrt(((p - t) ** 2).sum() / (t**2).sum())
    assert metrics["test/rel_l2"] == pytest.approx(rel_l2, rel=1e-5)


def test_normalize_targets_reports_original_units(tmp_path):
    """Targets x1000 with normalize_targets: the model sees the same normalised targets, so
    the loss (normalised units) is the same and every metric is in the targets' units."""
    on = {"task.normalize_targets": True}
    base = fit(tmp_path / "base", write_scalar(tmp_path / "a.npz"), **on)
    big = fit(tmp_path / "big", write_scalar(tmp_path / "b.npz", scale=1000.0), **on)
    a, b = history(base.run_dir)[-1], history(big.run_dir)[-1]
    assert b["train/loss"] == pytest.approx(a["train/loss"], rel=1e-4)
    assert b["val/loss"] == pytest.approx(a["val/loss"], rel=1e-4)
    assert b["val/mse"] == pytest.approx(1e6 * a["val/mse"], rel=1e-4)
    assert b["val/rmse"] == pytest.approx(1e3 * a["val/rmse"], rel=1e-4)
    assert b["val/mae"] == pytest.approx(1e3 * a["val/mae"], rel=1e-4)
    assert b["val/r2"] == pytest.approx(a["val/r2"], rel=1e-4)
    # an un-normalised run's loss is its mse; a normalised run's mse is not its loss
    plain = history(fit(tmp_path / "plain", write_scalar(tmp_path / "b.npz", scale=1000.0)).run_dir)[-1]
    assert plain["val/mse"] == pytest.approx(plain["val/loss"], rel=1e-6)
    assert b["val/mse"] != pytest.approx(b["val/loss"], rel=0.5)

    # test/predict rebuild the statistics from the data: same metrics, predictions in units
    rd = str(big.run_dir)
    assert run(["validate", "--run-dir", rd, "--ckpt", "last", "--quiet"]) == 0
    validated = json.loads((big.run_dir / "validate_metrics.json").read_text())["metrics"]
    assert validated["val/mse"] == pytest.approx(b["val/mse"], rel=1e-5)
    assert run(["predict", "--run-dir", rd, "--ckpt", "last", "--split", "val", "--quiet"]) == 0
    with open(big.run_dir / "predictions.csv") as f:
        rows = list(csv.DictReader(f))
    mse = np.mean([(float(r["pred"]) - float(r["target"])) ** 2 for r in rows])
    assert mse == pytest.approx(b["val/mse"], rel=1e-4)
    # litrain.load predicts in original units too: the rows predictions.csv holds
    loaded = litrain.load(big.run_dir / "checkpoints" / "last.ckpt")
    val_rows = build_for_config(loaded.config)[0].datamodule.val_set.indices
    x = np.load(tmp_path / "b.npz")["x"][val_rows.numpy()]
    expected = torch.tensor([float(r["pred"]) for r in rows])
    torch.testing.assert_close(loaded.predict(x), expected, rtol=1e-5, atol=1e-3)
