"""``litrain predict --mc-samples K`` as a user types it: the mean of K seeded dropout passes
and their uncertainty columns; a model without dropout is one line and exit code 2."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import litrain

TINY = {"run.engine": "native", "trainer.max_epochs": 1, "trainer.limit_train_batches": 3}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_mc_samples_write_the_mean_and_the_uncertainty_and_no_dropout_is_refused(tmp_path: Path):
    run = tmp_path / "drop"
    litrain.fit(run_dir=run, quiet=True, **TINY, **{"model.dropout": 0.3})
    done = _cli("predict", "--run-dir", str(run), "--mc-samples", "4", "--output", str(tmp_path / "cli.csv"))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.DictReader((tmp_path / "cli.csv").open()))
    assert len(rows) > 0
    for r in rows:
        probs = [float(v) for k, v in r.items() if k.startswith("prob_")]
        assert abs(sum(probs) - 1) < 1e-4
        total, expected, mi = (
            float(r[k]) for k in ("predictive_entropy", "expected_entropy", "mutual_information")
        )
        assert abs(mi - max(total - expected, 0.0)) < 3e-6 and 0 <= expected <= total + 1e-6
        assert 0 <= float(r["disagreement"]) <= 1
    assert any(float(r["mutual_information"]) > 0 for r in rows)  # the passes differ
    # the same seed through the Python API: the same file
    litrain.predict(run_dir=run, mc_samples=4, output=tmp_path / "api.csv", quiet=True)
    assert (tmp_path / "api.csv").read_text() == (tmp_path / "cli.csv").read_text()

    plain = tmp_path / "plain"
    litrain.fit(run_dir=plain, quiet=True, **TINY)
    refused = _cli("predict", "--run-dir", str(plain), "--mc-samples", "4")
    assert refused.returncode == 2
    errors = [line for line in refused.stderr.splitlines() if line.startswith("litrain: error:")]
    assert len(errors) == 1 and "no dropout layer" in errors[0] and "Traceback" not in refused.stderr
    assert not (plain / "predictions.csv").exists()
