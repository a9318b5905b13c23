"""A new kind of learning is one Task class and one registration: a scalar regression with
MSE, defined here and nowhere under src/, trains through both engines and ``litrain
predict`` (the proof that nothing outside litrain/tasks assumes classification)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
import torchmetrics as tm
from torch import Tensor

from litrain.cli import run
from litrain.config import DataConfig, TaskConfig
from litrain.data.base import DataInfo, SourceData
from litrain.registry import DATASETS, TASKS

WEIGHTS = torch.tensor([1.5, -2.0, 0.5, 1.0])


def toy_linear(cfg: DataConfig) -> SourceData:
    """y = x . w + 0.5 for 4 standard-normal features: a line an MLP fits quickly."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(512, 4, generator=gen)
    y = x @ WEIGHTS + 0.5
    return SourceData((x, y), DataInfo((4,), 0, [], float_targets=True))


class ScalarRegression:
    """The Task protocol for one real-valued target (litrain.tasks.base.Task)."""

    monitor, monitor_mode = "val/loss", "min"
    num_outputs = 1

    def __init__(self, cfg: TaskConfig, info: DataInfo) -> None:
        assert info.float_targets
        self.config = cfg

    def unpack(self, batch: Any) -> tuple[Tensor, Tensor]:
        return batch[0], batch[1]

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return F.mse_loss(outputs.float().squeeze(-1), targets.float())

    def metrics(self, prefix: str) -> tm.MetricCollection:
        return tm.MetricCollection({"mse": tm.MeanSquaredError()}, prefix=prefix)

    def metric_inputs(self, outputs: Tensor) -> Tensor:
        return outputs.float().squeeze(-1)

    def prediction(self, outputs: Tensor) -> Tensor:
        return outputs.float().squeeze(-1)

    def write_predictions(self, path: Path, predictions: Tensor, targets: Any, names: list[str]) -> Path:
        rows = ["index,target,pred"] + [
            f"{i},{float(t):.6f},{float(p):.6f}"
            for i, (t, p) in enumerate(zip(targets, predictions, strict=True))
        ]
        path.write_text("\n".join(rows) + "\n")
        return path

    def artifact_metrics(self, split: str) -> None:
        return None

    def write_artifacts(self, split: str, values: Any, run_dir: Path) -> list[Path]:
        return []


@pytest.fixture
def toy_registered():
    DATASETS.register("toy_linear", toy_linear)
    TASKS.register("toy_mse", ScalarRegression)
    yield
    DATASETS.unregister("toy_linear")
    TASKS.unregister("toy_mse")


FLAGS = ["--dataset", "toy_linear", "--set", "task.type=toy_mse", "--epochs", "6", "--lr", "0.01", "--quiet"]


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_a_task_defined_outside_src_trains_and_predicts(toy_registered, engine, tmp_path):
    out = tmp_path / engine
    assert run(["fit", "--run-dir", str(out), "--engine", engine, *FLAGS]) == 0
    summary = json.loads((out / "summary.json").read_text())
    history = json.loads((out / "history.json").read_text())
    # the task's own monitor ranks checkpoints: val/loss, lowest first
    assert summary["monitor"] == "val/loss"
    assert (
        Path(summary["best_checkpoint"]).name.startswith("epoch=")
        and "val_loss=" in summary["best_checkpoint"]
    )
    assert summary["best_metric"] == pytest.approx(min(row["val/loss"] for row in history))
    # its metric is logged under split/name, and it learned: y's variance is 7.5, a
    # constant guess scores that; after 6 epochs the error is a small fraction of it
    assert history[-1]["val/mse"] < 0.02 * float(WEIGHTS.pow(2).sum())
    assert history[-1]["val/mse"] == pytest.approx(history[-1]["val/loss"], rel=1e-4)

    assert run(["predict", "--run-dir", str(out), "--split", "val", "--quiet"]) == 0
    with open(out / "predictions.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 102  # val_split 0.2 of 512
    mse = sum((float(r["pred"]) - float(r["target"])) ** 2 for r in rows) / len(rows)
    assert mse == pytest.approx(history[-1]["val/mse"], rel=1e-3)


def test_both_engines_give_the_same_numbers_for_it(toy_registered, tmp_path):
    for engine in ("lightning", "native"):
        assert run(["fit", "--run-dir", str(tmp_path / engine), "--engine", engine, *FLAGS]) == 0
    light, native = (json.loads((tmp_path / e / "history.json").read_text()) for e in ("lightning", "native"))
    for a, b in zip(light, native, strict=True):
        assert a["val/mse"] == pytest.approx(b["val/mse"], rel=1e-5)
        assert a["train/loss"] == pytest.approx(b["train/loss"], rel=1e-5)
