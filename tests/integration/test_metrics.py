"""The val/test metrics litrain reports equal scikit-learn's on the very predictions
``litrain.predict`` writes for the same checkpoint, for binary, multiclass and multilabel
tasks (one short epoch, so predictions are informative but imperfect)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn import metrics as skm

import litrain
from fakedata import blobs

TOL = 1e-4


def write_splits(tmp_path, x: np.ndarray, y: np.ndarray) -> None:
    """train/val/test .npz files: 120/40/40 samples."""
    for name, rows in (("train", slice(0, 120)), ("val", slice(120, 160)), ("test", slice(160, 200))):
        np.savez(tmp_path / f"{name}.npz", x=x[rows], y=y[rows])


def run(tmp_path, **overrides) -> litrain.api.RunResult:
    return litrain.fit(
        run_dir=tmp_path / "run",
        quiet=True,
        **{
            "data.source": "arrays",
            "data.root": str(tmp_path),
            "data.batch_size": 16,
            "trainer.max_epochs": 1,
            "optim.lr": 3e-3,
            **overrides,
        },
    )


def predicted(result, split: str, multilabel: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(targets, predicted labels, probabilities) from the predictions.csv of ``split``."""
    out = litrain.predict(
        run_dir=result.run_dir,
        checkpoint="last",
        split=split,
        output=result.run_dir / f"pred_{split}.csv",
        quiet=True,
    ).output
    with open(out) as f:
        rows = list(csv.DictReader(f))
    probs = np.array([[float(v) for k, v in row.items() if k.startswith("prob_")] for row in rows])
    if multilabel:
        k = probs.shape[1]

        def hot(cell: str) -> list[int]:
            on = {int(i) for i in cell.split(";") if i}
            return [int(j in on) for j in range(k)]

        return np.array([hot(r["target"]) for r in rows]), np.array([hot(r["pred"]) for r in rows]), probs
    return np.array([int(r["target"]) for r in rows]), np.array([int(r["pred"]) for r in rows]), probs


def evaluated_on_test(result) -> dict[str, float]:
    litrain.test(run_dir=result.run_dir, checkpoint="last", quiet=True)
    return json.loads((result.run_dir / "test_metrics.json").read_text())["metrics"]


def close(got: dict[str, float], expected: dict[str, float], split: str) -> None:
    for name, value in expected.items():
        assert got[f"{split}/{name}"] == pytest.approx(value, abs=TOL), f"{split}/{name}"


def sklearn_binary(y, pred, p1) -> dict[str, float]:
    return {
        "acc": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, zero_division=0),
        "recall": skm.recall_score(y, pred, zero_division=0),
        "f1": skm.f1_score(y, pred, zero_division=0),
        "auroc": skm.roc_auc_score(y, p1),
        "ap": skm.average_precision_score(y, p1),
        "nll": skm.log_loss(y, p1, labels=[0, 1]),
        "brier": skm.brier_score_loss(y, p1),
    }


def sklearn_macro(y, pred, probs, multilabel: bool) -> dict[str, float]:
    k = probs.shape[1]
    onehot = y if multilabel else np.eye(k)[y]
    out = {
        "precision": skm.precision_score(y, pred, average="macro", zero_division=0),
        "recall": skm.recall_score(y, pred, average="macro", zero_division=0),
        "f1": skm.f1_score(y, pred, average="macro", zero_division=0),
        "auroc": skm.roc_auc_score(
            y, probs, average="macro", **({} if multilabel else {"multi_class": "ovr"})
        ),
        "ap": skm.average_precision_score(onehot, probs, average="macro"),
        # calibration: multilabel per (sample, label) pair, multiclass over the classes
        "nll": skm.log_loss(onehot.reshape(-1), probs.reshape(-1))
        if multilabel
        else skm.log_loss(y, probs, labels=list(range(k))),
        "brier": float(np.mean((probs - onehot) ** 2))
        if multilabel
        else float(np.mean(((probs - onehot) ** 2).sum(1))),
    }
    if multilabel:
        out["exact_match"] = skm.accuracy_score(y, pred)  # subset accuracy
        out["acc"] = 1.0 - skm.hamming_loss(y, pred)  # per-label accuracy
    else:
        out["acc"] = skm.accuracy_score(y, pred)
    return out


def test_binary_metrics_equal_sklearn(tmp_path):
    x, y = blobs(200, (8,), 2, seed=1, scale=0.8)
    write_splits(tmp_path, x, y)
    r = run(tmp_path, **{"task.type": "binary", "task.pos_weight": 1.5, "optim.lr": 1e-2})
    for split, got in (("val", r.metrics), ("test", evaluated_on_test(r))):
        yt, pred, probs = predicted(r, split)
        assert probs.shape == (40, 2) and np.allclose(probs.sum(1), 1.0, atol=2e-6)
        assert 0 < pred.sum() < 40 and 0.5 < skm.accuracy_score(yt, pred) < 1.0  # informative
        close(got, sklearn_binary(yt, pred, probs[:, 1]), split)


def test_multiclass_metrics_equal_sklearn(tmp_path):
    x, y = blobs(200, (10,), 4, seed=2, scale=0.6)
    write_splits(tmp_path, x, y)
    r = run(tmp_path)
    for split, got in (("val", r.metrics), ("test", evaluated_on_test(r))):
        yt, pred, probs = predicted(r, split)
        assert probs.shape == (40, 4) and set(yt) == {0, 1, 2, 3}
        assert 0.3 < skm.accuracy_score(yt, pred) < 1.0
        close(got, sklearn_macro(yt, pred, probs, multilabel=False), split)
    # the confusion matrix written at test end is sklearn's on the same predictions
    yt, pred, _ = predicted(r, "test")
    rows = (r.run_dir / "confusion_matrix.csv").read_text().splitlines()
    matrix = [[int(v) for v in row.split(",")[1:]] for row in rows[1:]]
    assert matrix == skm.confusion_matrix(yt, pred, labels=[0, 1, 2, 3]).tolist()


def test_multilabel_metrics_equal_sklearn(tmp_path):
    x, y = blobs(200, (10,), 4, seed=3, scale=0.8)
    targets = np.stack([y == 0, (y == 1) | (y == 2), (y == 2) | (y == 3)], 1).astype(np.int64)
    write_splits(tmp_path, x, targets)
    r = run(tmp_path, **{"optim.lr": 1e-2})
    assert r.config.task.type == "multilabel"
    for split, got in (("val", r.metrics), ("test", evaluated_on_test(r))):
        yt, pred, probs = predicted(r, split, multilabel=True)
        assert probs.shape == (40, 3) and (yt.sum(0) > 0).all() and (yt.sum(0) < 40).all()
        assert 0.0 < skm.accuracy_score(yt, pred) < 1.0
        close(got, sklearn_macro(yt, pred, probs, multilabel=True), split)
    rows = (r.run_dir / "confusion_matrix.csv").read_text().splitlines()
    assert rows[0] == "label,tn,fp,fn,tp" and len(rows) == 4
    yt, pred, _ = predicted(r, "test", multilabel=True)
    per_label = skm.multilabel_confusion_matrix(yt, pred)
    assert [[int(v) for v in row.split(",")[1:]] for row in rows[1:]] == [
        m.ravel().tolist() for m in per_label
    ]
