"""logging.train_metrics: the task's metrics on the training batches, per step
(``train/acc_step``) and per epoch (``train/acc``), the same numbers in both engines."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

import litrain
from litrain.cli import run
from litrain.run.parts import build_parts

# sgd with a 1e-30 step leaves float32 weights bit-identical, so the epoch's training
# metrics equal the task's metrics of the stored model on the whole training split
FROZEN = ["--set", "optim.name=sgd", "--lr", "1e-30", "--set", "optim.momentum=0", "--weight-decay", "0"]
FLAGS = [
    "--quiet",
    "--epochs",
    "1",
    "--set",
    "logging.train_metrics=true",
    "--set",
    "trainer.log_every_n_steps=5",
]


def _fit(out: Path, engine: str, *extra: str) -> tuple[list[dict], list[dict]]:
    assert run(["fit", "--run-dir", str(out), "--engine", engine, *FLAGS, *extra]) == 0
    history = json.loads((out / "history.json").read_text())
    with open(out / "logs" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    return history, rows


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_epoch_values_are_the_task_metrics_on_the_training_batches(engine, tmp_path):
    history, rows = _fit(tmp_path / engine, engine, *FROZEN)
    loaded = litrain.load(tmp_path / engine)
    metrics = loaded.task.metrics("train/")
    with torch.no_grad():
        for batch in build_parts(loaded.config).datamodule.train_dataloader():
            x, y = loaded.task.unpack(batch)
            metrics.update(loaded.task.metric_inputs(loaded.model(x)), y)
    expected = {k: float(v) for k, v in metrics.compute().items()}
    assert set(expected) >= {"train/acc", "train/f1", "train/auroc"}
    for name, value in expected.items():
        assert history[0][name] == pytest.approx(value, abs=1e-6), name
    # per step: one row every 5 optimizer steps, with the batch's own values
    step_rows = [r for r in rows if r.get("train/acc_step")]
    assert [int(r["step"]) for r in step_rows] == [4, 9, 14, 19]
    assert all(0.0 <= float(r["train/acc_step"]) <= 1.0 for r in step_rows)


def test_both_engines_log_the_same_training_metrics(tmp_path):
    (light, light_rows), (native, native_rows) = (_fit(tmp_path / e, e) for e in ("lightning", "native"))
    names = [k for k in light[0] if k.startswith("train/") and k not in ("train/lr", "train/loss")]
    assert "train/acc" in names
    for name in names:
        assert light[0][name] == pytest.approx(native[0][name], rel=1e-6), name

    def steps(rows: list[dict]) -> list[tuple[str, str]]:
        return [(r["step"], r["train/acc_step"]) for r in rows if r.get("train/acc_step")]

    assert steps(light_rows) == steps(native_rows) and len(steps(light_rows)) == 4


def test_off_by_default(tmp_path):
    assert run(["fit", "--run-dir", str(tmp_path / "r"), "--quiet", "--epochs", "1"]) == 0
    history = json.loads((tmp_path / "r" / "history.json").read_text())
    assert "train/acc" not in history[0]
