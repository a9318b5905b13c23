from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch


def snapshot(*roots: Path) -> dict[str, str]:
    """SHA-256 of every file under ``roots``: compare before/after to prove nothing changed."""
    out = {}
    for root in roots:
        for p in sorted(Path(root).rglob("*")):
            if p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"tensors differ: {different}"


# The runs the NaN and OOM tests of both engines inject faults into.
NAN_RUN = {"trainer.max_epochs": 1, "optim.scheduler.name": "none"}  # digits, 23 steps
# EMA updates after steps 0, 2, 4, ...; a step-4 checkpoint holds the average after step 2
EMA_EVERY_2 = {"trainer.ema.enabled": True, "trainer.ema.update_every": 2, "trainer.ema.decay": 0.5}
OOM_RUN = {  # 16 steps of batch 64, with a schedule that depends on the step count
    "data.source": "synthetic",
    "data.shape": [20],
    "data.num_samples": 640,
    "data.val_split": 0.2,
    "trainer.max_epochs": 2,
    "optim.scheduler.name": "cosine",
}

HERE = Path(__file__).parent
TORCHRUN_2 = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]


def kill_env(fault: str | None) -> dict[str, str]:
    """The environment of a killrun.py process: this folder first on PYTHONPATH (prepended,
    so the child imports the same litrain as the tests), ``LITRAIN_KILL_AT`` armed or unset."""
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    env.pop("LITRAIN_KILL_AT", None)
    if fault:
        env["LITRAIN_KILL_AT"] = fault
    return env


def killrun(
    run: Path, fault: str | None, *flags: str, torchrun: bool = False, command: str = "fit"
) -> subprocess.CompletedProcess:
    """``litrain COMMAND --quiet --run-dir RUN FLAGS`` through killrun.py with ``fault`` armed
    (``LITRAIN_KILL_AT``; empty or None: none), under torchrun with 2 processes when asked."""
    env = kill_env(fault)
    launch = [sys.executable, *(TORCHRUN_2 if torchrun else []), str(HERE / "killrun.py")]
    cmd = [*launch, command, "--quiet", "--run-dir", str(run), *flags]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def user_error(argv: list[str], capsys: Any) -> tuple[str, str]:
    """Run the CLI on bad input: exit 2, exactly one ``litrain: error:`` line, no traceback.
    Returns (the message from that line on, all of stderr)."""
    import pytest

    from litrain.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    lines = err.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("litrain: error:")]
    assert exit_info.value.code == 2, err
    assert len(starts) == 1, err
    assert "Traceback" not in err
    return "\n".join(lines[starts[0] :]), err


def hold_run_dir(run: Path) -> subprocess.Popen:
    """Another process that holds ``run``'s lock (as a running fit does) until killed."""
    code = (
        "import sys; from pathlib import Path; from litrain.run.lock import lock_run_dir; "
        "lock_run_dir(Path(sys.argv[1])); print('locked', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(run)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def read_only(run: Path, argv: list[str]) -> subprocess.CompletedProcess:
    """``litrain ARGV`` with ``run`` read-only: a read-only bind mount in a private mount
    namespace as root (root writes through file modes), the folder's modes otherwise."""
    litrain = [sys.executable, "-m", "litrain", *argv]
    if os.geteuid() == 0:
        script = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'
        cmd = ["unshare", "-m", "sh", "-c", script, "sh", str(run), *litrain]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    modes = {p: p.stat().st_mode for p in [run, *run.rglob("*")] if p.is_dir()}
    for p in modes:
        p.chmod(0o555)
    try:
        return subprocess.run(litrain, capture_output=True, text=True, timeout=300)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
