"""Running litrain the way a user launches it: the CLI, Lightning's own launcher, torchrun.

Every process is limited to one torch thread (2 processes on a 2-core CI machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import free_port, step_losses  # noqa: F401 (the distributed tests import them from here)

LITRAIN = [sys.executable, "-m", "litrain"]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
# litrain under torchrun, 2 processes on this one machine
TORCHRUN_LITRAIN_2 = [*TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "litrain"]
# digits, 1 epoch, fp32, quiet: a few seconds per run
BASE = ["fit", "--accelerator", "cpu", "--epochs", "1", "--quiet", "--trainer.log_every_n_steps", "1"]


def env() -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", WANDB_MODE="offline")


def run(
    cmd: list[str], cwd: Path, timeout: int = 240, check: bool = True, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, cwd=cwd, env={**env(), **(extra_env or {})}, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def torchrun_2_nodes(args: list[str], cwd: Path, timeout: int = 240) -> list[subprocess.CompletedProcess]:
    """Two 'nodes' on localhost, one process each, as on a 2-node cluster."""
    port = str(free_port())
    procs = [
        subprocess.Popen(
            [
                *TORCHRUN,
                "--nnodes",
                "2",
                "--node-rank",
                str(rank),
                "--nproc-per-node",
                "1",
                "--master-addr",
                "127.0.0.1",
                "--master-port",
                port,
                "-m",
                "litrain",
                *args,
            ],
            cwd=cwd,
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=timeout)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    for p in out:
        if p.returncode != 0:
            raise AssertionError(f"node exited {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-5000:]}")
    return out
