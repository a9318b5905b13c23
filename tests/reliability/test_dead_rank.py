"""A DDP rank killed with SIGKILL: the run ends (no hang), the launcher's report names the
dead rank, and the run resumes from its last checkpoint on one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from litrain import atomic

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
    assert atomic.verify(last) and torch.load(last, weights_only=True)["global_step"] == 6
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
