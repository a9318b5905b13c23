"""A real single-host SLURM (scripts/slurm_local.sh): a 2-task CPU job submitted with
``litrain slurm --submit`` gets the warning signal, checkpoints at a step boundary,
requeues itself, resumes from that checkpoint and finishes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import torch
from dist_helpers import LITRAIN, env, run, summary

pytestmark = [pytest.mark.distributed, pytest.mark.slurm]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "slurm_local.sh"
EPOCHS, STEPS_PER_EPOCH = 6, 23  # digits: 1438 train samples / (2 ranks x 32)
JOB_NAME = "slurm-test"  # the run name below: sbatch --job-name
ENDED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")


@pytest.fixture(scope="module")
def cluster() -> None:
    if shutil.which("sbatch") is None:
        if shutil.which("apt-get") is None:
            pytest.skip("no SLURM here and no apt-get to install it (scripts/slurm_local.sh needs Debian)")
        if os.geteuid() != 0:
            pytest.skip("installing SLURM with scripts/slurm_local.sh needs root")
    subprocess.run([str(SCRIPT)], check=True, timeout=900)
    # The daemons outlive a test session: a job an interrupted earlier session left behind
    # (pending or holding the node's cores) would keep this one from ever starting.
    subprocess.run(["scancel", "--full", "--name", JOB_NAME], check=False)
    deadline = time.monotonic() + 120
    while _jobs_named(JOB_NAME) and time.monotonic() < deadline:
        time.sleep(0.5)


def _jobs_named(name: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%i"], capture_output=True, text=True).stdout
    return out.split()


def _job_field(job: str, name: str) -> str:
    out = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True).stdout
    m = re.search(rf"\b{name}=(\S+)", out)
    return m.group(1) if m else ""


def _wait(predicate, what: str, log: Path, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            text = log.read_text() if log.exists() else "(no job log)"
            queue = subprocess.run(["squeue", "-l"], capture_output=True, text=True).stdout
            raise AssertionError(f"gave up waiting for {what}; queue:\n{queue}\njob log:\n{text[-4000:]}")
        time.sleep(0.5)


def test_warning_signal_checkpoints_requeues_and_resumes(cluster, tmp_path):
    (tmp_path / "cfg.yaml").write_text(
        f"run: {{name: {JOB_NAME}}}\nmodel: {{name: mlp}}\ndata: {{batch_size: 32}}\n"
        f"trainer: {{max_epochs: {EPOCHS}}}\n"
    )
    rd = tmp_path / "run"
    job = run(
        [*LITRAIN, "slurm", "cfg.yaml", "--tasks-per-node", "2", "--run-dir", str(rd), "--submit"], tmp_path
    ).stdout.strip()
    assert job.isdigit(), job
    log = tmp_path / f"slurm-{job}.out"
    try:
        # epoch 0 done (history.json) means the signal handlers are in place: warn now
        _wait(
            lambda: (rd / "history.json").exists() or _job_field(job, "JobState") in ENDED,
            "the first epoch",
            log,
        )
        assert _job_field(job, "JobState") == "RUNNING", log.read_text() if log.exists() else job
        subprocess.run(["scancel", "--signal=USR1", job], check=True, env=env())
        _wait(lambda: _job_field(job, "Restarts") == "1", "the requeue", log)
        # the requeued job starts by itself after cred_expire (10 s in slurm_local.sh); forcing
        # StartTime=now races the revoked credential of the first run and fails the job
        _wait(lambda: _job_field(job, "JobState") in ENDED, "the resumed job to finish", log)
    finally:
        subprocess.run(["scancel", job], check=False)
    text = log.read_text()
    assert _job_field(job, "JobState") == "COMPLETED", text[-4000:]
    saved = re.search(r"SIGUSR1 received: saved \S+last\.ckpt at step (\d+)", text)
    assert saved, text[-4000:]
    assert 0 < int(saved.group(1)) < EPOCHS * STEPS_PER_EPOCH
    assert "restart 1: resuming from" in text
    s = summary(rd)
    assert s["steps"] == EPOCHS * STEPS_PER_EPOCH and s["epochs"] == EPOCHS
    ckpt = torch.load(rd / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == EPOCHS * STEPS_PER_EPOCH
    assert ckpt["state_dict"]
