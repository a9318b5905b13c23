"""kill -9 in the middle of an ensemble's second member, then the same ``litrain fit``
again: the finished first member is skipped untouched (byte-identical files), the second
resumes from its last checkpoint, and both members' weights and the pooled ensemble equal
an uninterrupted fit's bit for bit.

digits with val_split 0.8: 6 batches an epoch; 2 members of 1 epoch, last.ckpt every 2 steps.
The kill comes at the process's 11th batch: member1's 5th, after its save at step 4."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from reliability_helpers import assert_same_weights, killrun, load_weights, snapshot

import litrain

ENSEMBLE = {
    "run": {"name": "digits-ens"},
    "data": {"val_split": 0.8},
    "model": {"ensemble": {"members": 2}},
    "trainer": {"max_epochs": 1},
    "checkpoint": {"every_n_steps": 2},
}


def _fit(config: Path, run: Path, kill_at: str | None) -> subprocess.CompletedProcess:
    return killrun(run, kill_at, "--config", str(config))


@pytest.mark.slow
def test_ensemble_resumes_after_kill9_bit_identical(tmp_path: Path) -> None:
    ref = litrain.fit(ENSEMBLE, run_dir=tmp_path / "ref", quiet=True)
    assert [m["steps"] for m in ref.summary["members"]] == [6, 6]

    config = tmp_path / "ensemble.yaml"
    config.write_text(yaml.safe_dump(ENSEMBLE))
    run = tmp_path / "killed"
    killed = _fit(config, run, "step:11")
    assert killed.returncode == -9, killed.stderr
    status = json.loads((run / "ensemble_group.json").read_text())
    assert [m["status"] for m in status["members"]] == ["finished", "running"]
    assert (run / "member1" / "checkpoints" / "last.ckpt").is_file()
    assert not (run / "member1" / "summary.json").exists()
    assert not (run / "ensemble.json").exists()  # nothing pooled from a half-trained member
    refused = subprocess.run(
        ["litrain", "test", "--run-dir", str(run)], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2 and "did not all finish" in refused.stderr

    member0 = snapshot(run / "member0")
    mtimes = {p: p.stat().st_mtime_ns for p in (run / "member0").rglob("*") if p.is_file()}
    done = _fit(config, run, None)
    assert done.returncode == 0, done.stderr
    assert snapshot(run / "member0") == member0
    assert {p: p.stat().st_mtime_ns for p in (run / "member0").rglob("*") if p.is_file()} == mtimes

    final = json.loads((run / "ensemble_group.json").read_text())
    assert final["status"] == "finished" and [m["steps"] for m in final["members"]] == [6, 6]
    for member in ("member0", "member1"):
        a = load_weights(tmp_path / "ref" / member / "checkpoints" / "last.ckpt")
        b = load_weights(run / member / "checkpoints" / "last.ckpt")
        assert_same_weights(a, b)
    pooled, ref_pooled = (json.loads((d / "ensemble.json").read_text()) for d in (run, tmp_path / "ref"))
    assert pooled == ref_pooled  # same weights, temperature and validation NLLs
