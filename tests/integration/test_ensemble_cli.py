"""``litrain ensemble A B --output DIR`` as a user types it, then ``litrain.load(DIR)``: the
pooled probabilities are the mean of the members' own predictions, members open lazily, and
the pooled outputs give them back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from sklearn.datasets import load_digits

import litrain
from litrain.tasks import uncertainty as U
from litrain.trained.ensemble import Ensemble

TINY = {"trainer.max_epochs": 1, "data.batch_size": 32, "run.engine": "native"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_ensemble_pools_the_mean_of_member_probabilities(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    litrain.fit(run_dir=a, quiet=True, **TINY, **{"run.seed": 1})
    litrain.fit(run_dir=b, quiet=True, **TINY, **{"run.seed": 2})
    done = _cli("ensemble", str(a), str(b), "--output", str(tmp_path / "ens"))
    assert done.returncode == 0, done.stderr[-2000:]

    ens = litrain.load(tmp_path / "ens")
    assert isinstance(ens, Ensemble) and ens._members is None  # nothing opened yet
    raw = load_digits().data[:30]
    pa, pb = litrain.load(a).predict(raw), litrain.load(b).predict(raw)
    assert not torch.allclose(pa, pb)  # different seeds: different members
    pooled = ens.predict(raw)
    torch.testing.assert_close(pooled, (pa + pb) / 2)
    torch.testing.assert_close(ens.task.prediction(ens.outputs(raw)), pooled, atol=1e-6, rtol=0)
    members = ens.member_probs(raw)
    assert members.shape == (2, 30, 10)
    assert (U.mutual_information(members) >= 0).all()

    again = _cli("ensemble", str(a), str(tmp_path / "nope"), "--output", str(tmp_path / "ens2"))
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
