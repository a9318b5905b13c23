"""``model.ensemble`` in one fit: the members as a run group, pooled with val_nll_weights and
calibrated after pooling; ``litrain.load``, ``litrain test`` and ``litrain predict --run-dir``
take the ensemble's dir. Two tiny native members (one epoch, 3 batches)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from sklearn.datasets import load_digits

import litrain
from litrain.tasks import uncertainty as U
from litrain.trained.ensemble import Ensemble
from litrain.trained.run import TrainedRun

TINY = {
    "run.engine": "native",
    "trainer.max_epochs": 1,
    "trainer.limit_train_batches": 3,
    "data.test_split": 0.2,
    "model.ensemble.members": [{"model.hidden": [32]}, {"model.hidden": [64]}],
    "model.ensemble.combine": "val_nll_weights",
}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def ens_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("ens") / "run"
    result = litrain.fit(run_dir=run, quiet=True, **TINY)
    assert result.run_dir == run.absolute()
    return run


def test_fit_trains_each_member_and_pools_them(ens_dir: Path):
    record = json.loads((ens_dir / "ensemble.json").read_text())
    assert record["members"] == ["member0", "member1"]
    for i, hidden in enumerate([32, 64]):
        member = TrainedRun.open(ens_dir / f"member{i}")
        assert member.config.model.hidden == [hidden] and member.config.run.seed == 42 + i
    w = torch.tensor(record["weights"])
    assert torch.isclose(w.sum(), torch.tensor(1.0, dtype=w.dtype)) and bool((w >= 0).all())
    assert record["val_nll_pooled"] <= record["val_nll_uniform"] + 1e-12  # fitted, never worse
    cal = record["calibration"]
    assert cal["val_nll_after"] <= cal["val_nll_before"]
    curves = json.loads((ens_dir / "reliability_val.json").read_text())
    assert set(curves) == {"uniform mean", "pooled", "pooled + temperature"}
    assert {c["samples"] for c in curves.values()} == {record["val_samples"]}


def test_load_pools_weighted_members_then_the_temperature(ens_dir: Path):
    ens = litrain.load(ens_dir)
    assert isinstance(ens, Ensemble)
    raw = load_digits().data[:20]
    record = json.loads((ens_dir / "ensemble.json").read_text())
    members = torch.stack([litrain.load(ens_dir / f"member{i}").predict(raw) for i in range(2)]).double()
    pooled = (torch.tensor(record["weights"], dtype=torch.float64)[:, None, None] * members).sum(0)
    expected = (pooled.log() / record["calibration"]["temperature"]).softmax(-1)
    got = ens.predict(raw)
    assert torch.allclose(got.double(), expected, atol=1e-6)
    assert torch.equal(got.argmax(-1), pooled.argmax(-1))  # the temperature keeps every label


def test_cli_predict_writes_the_uncertainty_of_each_sample(ens_dir: Path):
    done = _cli("predict", "--run-dir", str(ens_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.DictReader((ens_dir / "predictions.csv").open()))
    members, targets = Ensemble.open(ens_dir).split_probs("test")
    cols = U.uncertainty_columns(
        members, torch.tensor(json.loads((ens_dir / "ensemble.json").read_text())["weights"])
    )
    assert len(rows) == len(targets) > 0
    for key in ("predictive_entropy", "expected_entropy", "mutual_information", "disagreement"):
        written = torch.tensor([float(r[key]) for r in rows], dtype=torch.float64)
        assert torch.allclose(written, cols[key], atol=2e-6), key
    assert [int(r["target"]) for r in rows] == targets.tolist()


def test_cli_test_writes_pooled_metrics_and_the_reliability_diagram(ens_dir: Path):
    done = _cli("test", "--run-dir", str(ens_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((ens_dir / "test_metrics.json").read_text())
    assert set(record["table"]) == {"member0", "member1", "uniform", "ensemble"}
    members, targets = Ensemble.open(ens_dir).split_probs("test")
    uniform = members.mean(0)
    assert abs(record["table"]["uniform"]["nll"] - float(U.nll(uniform, targets))) < 1e-6
    assert (
        abs(record["table"]["uniform"]["acc"] - float((uniform.argmax(-1) == targets).double().mean())) < 1e-9
    )
    bins = json.loads((ens_dir / "reliability.json").read_text())
    assert abs(bins["ensemble"]["ece"] - record["metrics"]["test/ece"]) < 1e-5
    assert sum(b["count"] for b in bins["ensemble"]["bins"]) == len(targets)
    assert (ens_dir / "plots" / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_rerun_with_a_changed_member_is_refused_and_keeps_the_ensemble(ens_dir: Path):
    from litrain.errors import ConfigError

    before = (ens_dir / "ensemble.json").read_bytes()
    changed = {**TINY, "model.ensemble.members": [{"model.hidden": [32]}, {"model.hidden": [16]}]}
    with pytest.raises(
        ConfigError, match=r"member member1 finished earlier .* model\.hidden \[64\] -> \[16\]"
    ):
        litrain.fit(run_dir=ens_dir, quiet=True, **changed)
    assert (ens_dir / "ensemble.json").read_bytes() == before
