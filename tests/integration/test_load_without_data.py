"""``litrain.load`` reads the model card written at fit time and never rebuilds the training
data: train, run ``litrain predict`` (the CLI, in a subprocess), delete the data, load, and
``predict`` on the raw samples gives what the CLI wrote. Classification (raw sklearn digits),
regression of fields, multi-task and multi-view runs, in both engines."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import litrain
from litrain.data.datamodule import DataModule
from litrain.errors import ConfigError
from litrain.registry import DATASETS
from litrain.run.card import CARD_FILE
from litrain.run.loaded import build_for_config
from litrain.trained.outputs import outputs_on
from litrain.trained.predictor import Predictor

ENGINES = ["lightning", "native"]
TINY = {"trainer.max_epochs": 1, "data.batch_size": 16, "checkpoint.save_last": True}


def _cli_predict(run: Path) -> None:
    """``litrain predict --run-dir RUN`` as a user types it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-m", "litrain", "predict", "--run-dir", str(run), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open()))


def _columns(rows: list[dict[str, str]], names: list[str]) -> torch.Tensor:
    return torch.tensor([[float(r[n]) for n in names] for r in rows])


@pytest.fixture
def no_data_rebuild(monkeypatch: pytest.MonkeyPatch):
    """Any data source or DataModule setup during load fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("litrain.load rebuilt the training data")

    def use() -> None:
        monkeypatch.setattr(DataModule, "setup", refuse)
        monkeypatch.setattr(DATASETS, "get", refuse)

    return use


@pytest.mark.parametrize("engine", ENGINES)
def test_digits_raw_sklearn_arrays_give_what_litrain_predict_wrote(engine, tmp_path, no_data_rebuild):
    from sklearn.datasets import load_digits

    run = tmp_path / "run"
    litrain.fit(run_dir=run, quiet=True, **TINY, **{"run.engine": engine, "data.test_split": 0.05})
    card = json.loads((run / CARD_FILE).read_text())
    assert card["input"] == {"shape": [1, 8, 8], "dtype": "float32", "views": 0, "kind": "image"}
    assert card["raw"]["scale"] == 16.0 and card["classes"] == [str(i) for i in range(10)]
    assert card["target"] == {"kind": "class", "shape": []} and len(card["raw"]["mean"]) == 1
    _cli_predict(run)
    rows = _csv(run / "predictions.csv")
    written = _columns(rows, [f"prob_{i}" for i in range(10)])
    cfg = litrain.load_config([run / "config.yaml"])
    datamodule = build_for_config(cfg)[0].datamodule
    idx = datamodule.test_set.indices.numpy()
    # the engine-neutral pass over the test split: the CLI's numbers and targets
    outputs, targets = outputs_on(litrain.load(run), datamodule, "test")
    torch.testing.assert_close(outputs.softmax(1), written, atol=1e-6, rtol=0)
    assert targets.tolist() == [int(r["target"]) for r in rows]
    digits = load_digits()
    no_data_rebuild()
    loaded = litrain.load(run)
    assert isinstance(loaded, Predictor) and isinstance(loaded, torch.nn.Module)
    flat, square = digits.data[idx], digits.images[idx]  # (N, 64) and (N, 8, 8), values 0-16
    assert flat.shape == (len(rows), 64) and flat.max() == 16
    torch.testing.assert_close(loaded.predict(flat), written, atol=1e-6, rtol=0)  # the CSV: 6 decimals
    torch.testing.assert_close(loaded.predict(square), written, atol=1e-6, rtol=0)
    torch.testing.assert_close(loaded.predict(flat[0]), written[:1], atol=1e-6, rtol=0)  # one sample
    with pytest.raises(ConfigError, match=r"^predict: got inputs of shape \(5, 63\); it takes one sample"):
        loaded.predict(flat[:5, :63])


def _write_fields(root: Path) -> None:
    g = np.random.default_rng(1)
    for split, n in (("train", 48), ("val", 16), ("test", 16)):
        x = g.normal(size=(n, 2, 16)).astype(np.float32)
        y = np.stack([np.roll(x[:, 0], 1, -1), x[:, 0] * x[:, 1]], 1).astype(np.float32)
        np.savez(root / f"{split}.npz", x=x, y=y)


def _write_multitask(root: Path) -> None:
    g = np.random.default_rng(0)
    for split, n in (("train", 64), ("val", 16), ("test", 16)):
        x = g.normal(size=(n, 8)).astype(np.float32)
        np.savez(
            root / f"{split}.npz",
            x=x,
            y_severity=(x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5),
            y_action=(x[:, 2] > 0).astype(np.int64),
            y_score=(2 * x[:, 3] + x[:, 4]).astype(np.float32),
        )


def _write_views(root: Path) -> None:
    """Two 8x8 grayscale views per sample; the label is which view is brighter."""
    g = np.random.default_rng(2)
    rows = []
    for i in range(48):
        split = "train" if i < 32 else "val" if i < 40 else "test"
        label = int(g.integers(2))
        for v in range(2):
            level = 200 if v == label else 60
            pixels = np.clip(g.normal(level, 30, size=(8, 8)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(root / f"{i}_{v}.png")
        rows.append({"path_a": f"{i}_0.png", "path_b": f"{i}_1.png", "y": label, "split": split})
    with (root / "annotations.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _test_views(root: Path) -> np.ndarray:
    """The test split's samples as stored: (N, 2, 1, 8, 8) views in [0, 1]."""
    rows = [r for r in _csv(root / "annotations.csv") if r["split"] == "test"]
    return np.stack(
        [
            np.stack(
                [
                    np.asarray(Image.open(root / r[k]), dtype=np.float32)[None] / 255
                    for k in ("path_a", "path_b")
                ]
            )
            for r in rows
        ]
    )


KINDS = {
    "fields": (
        _write_fields,
        {
            "task.type": "regression",
            "model.name": "fno",
            "model.width": 8,
            "model.layers": 1,
            "model.modes": 4,
        },
    ),
    "multitask": (
        _write_multitask,
        {
            "task.type": "multitask",
            "model.name": "mlp",
            "task.heads": {
                "severity": {"type": "classification"},
                "action": {"type": "binary"},
                "score": {"type": "regression"},
            },
        },
    ),
    "views": (
        _write_views,
        {"data.source": "image_annotations", "model.name": "cnn", "model.view_pool": "mean"},
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_load_predicts_with_the_data_deleted(kind, engine, tmp_path, no_data_rebuild):
    write, overrides = KINDS[kind]
    data, run = tmp_path / "data", tmp_path / "run"
    data.mkdir()
    write(data)
    cfg = {"data.source": "arrays", "data.root": str(data), **TINY, "run.engine": engine, **overrides}
    litrain.fit(run_dir=run, quiet=True, **cfg)
    _cli_predict(run)
    if kind == "views":
        raw = _test_views(data)
        written = _columns(_csv(run / "predictions.csv"), ["prob_0", "prob_1"])
    elif kind == "fields":
        raw = np.load(data / "test.npz")["x"]
        written = torch.from_numpy(np.load(run / "predictions.npy"))
    else:
        raw = np.load(data / "test.npz")["x"]
        names = ["severity_prob_0", "severity_prob_1", "severity_prob_2", "action_prob_1", "score_pred"]
        written = _columns(_csv(run / "predictions.csv"), names)
    shutil.rmtree(data)
    no_data_rebuild()
    for source in (run, run / "checkpoints" / "last.ckpt"):
        loaded = litrain.load(source, checkpoint="best")
        got = loaded.predict(raw)
        if kind == "multitask":
            got = got[:, [0, 1, 2, 4, 5]]  # severity, action's p1, score (the CSV's columns)
        torch.testing.assert_close(got, written, atol=1e-5, rtol=1e-5)  # 1 epoch: best is last
        assert loaded.card is not None and loaded.card["input"]["views"] == (2 if kind == "views" else 0)
    card = json.loads((run / CARD_FILE).read_text())
    assert card["target"]["kind"] == {"fields": "field", "multitask": "multitask", "views": "class"}[kind]
    if kind == "multitask":
        assert card["heads"] == {
            "severity": {"columns": 1, "classes": 3},
            "action": {"columns": 1, "classes": 2},
            "score": {"columns": 1, "classes": 0},
        }
