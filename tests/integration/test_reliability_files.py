"""``litrain test`` and ``litrain calibrate`` draw the reliability diagram of a classifier:
the bins in reliability.json (their ECE is the metric's, their counts the split's size) and
plots/reliability.png; test_metrics.json has aurc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import litrain

TINY = {"run.engine": "native", "trainer.max_epochs": 1, "trainer.limit_train_batches": 3}
PNG = b"\x89PNG\r\n\x1a\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_test_and_calibrate_write_the_reliability_diagram(tmp_path: Path):
    run = tmp_path / "run"
    litrain.fit(run_dir=run, quiet=True, **TINY)
    done = _cli("test", "--run-dir", str(run), "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((run / "test_metrics.json").read_text())["metrics"]
    curve = json.loads((run / "reliability.json").read_text())["test"]
    assert curve["ece"] == pytest.approx(metrics["test/ece"], abs=1e-5)
    assert curve["mce"] == pytest.approx(metrics["test/mce"], abs=1e-5)
    assert 0 <= metrics["test/aurc"] <= 1
    assert curve["samples"] == sum(b["count"] for b in curve["bins"]) > 0 and len(curve["bins"]) == 15
    assert (run / "plots" / "reliability.png").read_bytes()[:8] == PNG

    record = litrain.api.calibrate(run)
    curves = json.loads((run / "reliability_val.json").read_text())
    assert curves["before"]["ece"] == pytest.approx(record["val_ece_before"], abs=1e-5)
    assert curves["after"]["ece"] == pytest.approx(record["val_ece_after"], abs=1e-5)
    assert curves["before"]["samples"] == curves["after"]["samples"] == record["val_samples"]
    assert (run / "plots" / "reliability_val.png").read_bytes()[:8] == PNG
