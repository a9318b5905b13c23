"""``litrain calibrate RUN`` as a user types it: fits a temperature on the validation split,
lowers its NLL, keeps every predicted label, and ``litrain.load`` then gives the calibrated
model, and ``task.calibrate: auto`` does the same after fit; a run without a validation split
gets one line and exit code 2 (auto leaves it uncalibrated)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from sklearn.datasets import load_digits

import litrain
from litrain.run.parts import build_parts
from litrain.trained.calibrated import Calibrated
from litrain.trained.outputs import outputs_on
from litrain.trained.run import TrainedRun

TINY = {"trainer.max_epochs": 1, "data.batch_size": 32, "run.engine": "native"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_calibrate_lowers_val_nll_keeps_labels_and_load_carries_it(tmp_path: Path):
    run = tmp_path / "run"
    litrain.fit(run_dir=run, quiet=True, **TINY, **{"task.calibrate": "auto"})
    auto = json.loads((run / "calibration.json").read_text())  # task.calibrate: auto did it
    done = _cli("calibrate", str(run))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "val NLL" in done.stdout
    record = json.loads((run / "calibration.json").read_text())
    assert record["temperature"] == auto["temperature"]  # LBFGS from T = 1: deterministic
    assert record["val_nll_after"] < record["val_nll_before"]
    assert record["val_samples"] > 0 and record["temperature"] > 0

    raw = load_digits().data[:40]  # raw sklearn digits, 0-16
    plain = TrainedRun.open(run)
    loaded = litrain.load(run)
    assert isinstance(loaded, Calibrated)
    t = torch.tensor(record["temperature"])
    torch.testing.assert_close(loaded.outputs(raw), plain.outputs(raw) / t)
    torch.testing.assert_close(loaded.predict(raw), (plain.outputs(raw) / t).softmax(-1))
    assert torch.equal(loaded.predict(raw).argmax(-1), plain.predict(raw).argmax(-1))
    assert torch.equal(loaded.state_dict()["temperature"], t)

    # `litrain predict` writes the calibrated probabilities: those of the engine-neutral pass
    # of the loaded (calibrated) model over the same test split
    done = _cli("predict", "--run-dir", str(run), "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.DictReader((run / "predictions.csv").open()))
    written = torch.tensor([[float(v) for k, v in r.items() if k.startswith("prob_")] for r in rows])
    parts = build_parts(loaded.config)
    logits, _ = outputs_on(loaded, parts.datamodule, "test")
    torch.testing.assert_close(written, logits.softmax(-1), atol=2e-6, rtol=0)


def test_calibrate_without_a_validation_split_is_one_line(tmp_path: Path):
    run = tmp_path / "run"
    litrain.fit(run_dir=run, quiet=True, **TINY, **{"data.val_split": 0.0, "task.calibrate": "auto"})
    assert not (run / "calibration.json").exists()  # auto: nothing to fit on, the fit is fine
    done = _cli("calibrate", str(run))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "validation split" in lines[0] and "data.val_split" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (run / "calibration.json").exists()
