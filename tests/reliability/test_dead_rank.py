"""A DDP rank killed with SIGKILL: the run ends (no hang), a report names the dead rank
(torchrun's, or litrain's under Lightning's own launcher), and the run resumes from its last
checkpoint."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from litrain.checkpoint import store

HERE = Path(__file__).parent


@pytest.mark.slow
@pytest.mark.distributed
def test_dead_rank_ends_the_run_names_it_and_the_run_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    flags = [
        "fit",
        "--quiet",
        "--accelerator",
        "cpu",
        "--run-dir",
        str(run),
        "--epochs",
        "2",
        "--set",
        "checkpoint.every_n_steps=3",
        "--trainer.ddp_timeout",
        "60",
        "--set",
        "trainer.callbacks=[{class_path: reliability_faults.KillRank, init_args: {batch: 8}}]",
    ]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "litrain",
            *flags,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rank      : 1" in out and "Signal 9 (SIGKILL)" in out, out[-3000:]
    last = run / "checkpoints" / "last.ckpt"
    assert store.verify(last) and torch.load(last, weights_only=True)["global_step"] == 6
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "litrain",
            "fit",
            "--quiet",
            "--run-dir",
            str(run),
            "--resume",
            "last",
            "--set",
            "trainer.callbacks=[]",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]


# KillRank SIGKILLs rank 1 at its 8th batch; checkpoint.every_n_steps=3 saved step 6 before.
_KILL_RANK_1 = "trainer.callbacks=[{class_path: reliability_faults.KillRank, init_args: {batch: 8}}]"
_DEAD_LINE = re.compile(
    r"^litrain: rank 1 \(pid \d+\) died with SIGKILL; the run stopped\. Checkpoints in "
    r"(\S+) are intact: resume with --resume last --run-dir (\S+)$",
    re.MULTILINE,
)


def _litrain(args: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
@pytest.mark.distributed
def test_dead_rank_under_lightnings_launcher_is_named_and_the_run_resumes(tmp_path: Path) -> None:
    # --devices 2 without torchrun: rank 0 started rank 1 itself and must report its death.
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(HERE), "OMP_NUM_THREADS": "1"}
    flags = ["fit", "--quiet", "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp"]
    flags += ["--run-dir", str(run), "--epochs", "2", "--set", "checkpoint.every_n_steps=3"]
    # The subprocess timeout is twice ddp_timeout: a run that waited for the collective to
    # time out would end with gloo's timeout error, not the line asserted below.
    proc = _litrain([*flags, "--trainer.ddp_timeout", "60", "--set", _KILL_RANK_1], env, timeout=120)
    assert proc.returncode == 1, proc.stderr[-3000:]
    found = _DEAD_LINE.search(proc.stderr)
    assert found, proc.stderr[-3000:]
    assert found.groups() == (str(run / "checkpoints"), str(run))
    assert "Traceback" not in proc.stderr  # one line, not gloo's "Connection reset by peer"
    last = run / "checkpoints" / "last.ckpt"
    assert store.verify(last) and torch.load(last, weights_only=True)["global_step"] == 6
    # the same two-process launch picks the run up from step 6 and finishes both epochs
    resumed = _litrain(
        ["fit", "--quiet", "--run-dir", str(run), "--resume", "last", "--set", "trainer.callbacks=[]"],
        env,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["epochs"], summary["steps"]) == (2, 24)


@pytest.mark.slow
@pytest.mark.distributed
def test_rank_0_dying_ends_the_rank_it_started(tmp_path: Path) -> None:
    # rank 1 inherited the CLI's stderr: the pipe reaches EOF only once rank 1 has exited too.
    env = {**os.environ, "PYTHONPATH": str(HERE), "OMP_NUM_THREADS": "1"}
    kill_0 = "trainer.callbacks=[{class_path: reliability_faults.KillRank, init_args: {batch: 3, rank: 0}}]"
    flags = ["fit", "--quiet", "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp"]
    flags += ["--run-dir", str(tmp_path / "run"), "--trainer.ddp_timeout", "60", "--set", kill_0]
    proc = _litrain(flags, env, timeout=120)
    assert proc.returncode == -9  # rank 0 itself was SIGKILLed
    assert re.search(r"^litrain: rank 0 \(pid \d+\) died; the run stopped\. ", proc.stderr, re.M), proc.stderr
    assert "Traceback" not in proc.stderr
