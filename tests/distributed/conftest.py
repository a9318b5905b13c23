"""Runs shared by several tests (each costs a few seconds of 2 CPU cores): made once per
session, on first use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dist_helpers import BASE, LITRAIN, TORCHRUN_LITRAIN_2, run, torchrun_2_nodes

MLP = ["--model", "mlp"]
CNN = ["--model", "cnn"]


class Runs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[str, Path] = {}
        self.stdout: dict[str, str] = {}

    def get(self, name: str) -> Path:
        if name not in self._made:
            cwd = self.root / name
            cwd.mkdir()
            self._made[name] = RECIPES[name](self, cwd)
        return self._made[name]

    def cli(self, name: str, cwd: Path, args: list[str]) -> Path:
        proc = run([*LITRAIN, *BASE, "--run-dir", str(cwd / "run"), *args], cwd)
        self.stdout[name] = proc.stdout
        return cwd / "run"


def _torchrun_1_node(runs: Runs, cwd: Path) -> Path:
    # no --run-dir: both ranks must agree on one timestamped runs/<name>/<time> dir
    proc = run(
        [
            *TORCHRUN_LITRAIN_2,
            *BASE,
            *MLP,
            "--batch-size",
            "32",
            "--name",
            "tr",
        ],
        cwd,
    )
    runs.stdout["torchrun"] = proc.stdout
    dirs = list((cwd / "runs" / "tr").iterdir())
    assert len(dirs) == 1, f"ranks wrote {len(dirs)} run dirs: {dirs}"
    return dirs[0]


def _native_torchrun(runs: Runs, cwd: Path) -> Path:
    # the plain-PyTorch engine: DDP-wrapped model, DistributedSampler-order shards
    run(
        [
            *TORCHRUN_LITRAIN_2,
            *BASE,
            *MLP,
            "--batch-size",
            "32",
            "--engine",
            "native",
            "--run-dir",
            str(cwd / "run"),
        ],
        cwd,
    )
    return cwd / "run"


def _torchrun_2_nodes(runs: Runs, cwd: Path) -> Path:
    torchrun_2_nodes([*BASE, *MLP, "--batch-size", "32", "--run-dir", str(cwd / "run")], cwd)
    return cwd / "run"


RECIPES: dict[str, Callable[[Runs, Path], Path]] = {
    # one process, global batch 64: the reference
    "mlp_1p": lambda r, c: r.cli("mlp_1p", c, [*MLP, "--batch-size", "64"]),
    "cnn_1p": lambda r, c: r.cli("cnn_1p", c, [*CNN, "--batch-size", "64"]),
    # Lightning's launcher: 2 processes x 32 (cnn with synchronized batch norm)
    "cnn_ddp_syncbn": lambda r, c: r.cli(
        "cnn_ddp_syncbn",
        c,
        [
            *CNN,
            "--devices",
            "2",
            "--batch-size",
            "32",
            "--trainer.sync_batchnorm",
            "true",
            "--logging.tensorboard",
            "true",
        ],
    ),
    # 2 processes x 16 x 2 accumulated batches = 64 per optimizer step
    "mlp_ddp_accum": lambda r, c: r.cli(
        "mlp_ddp_accum", c, [*MLP, "--devices", "2", "--batch-size", "16", "--accumulate-grad-batches", "2"]
    ),
    # ddp_spawn: loaders are built before the processes exist; shards resolve ranks late
    "mlp_ddp_spawn": lambda r, c: r.cli(
        "mlp_ddp_spawn", c, [*MLP, "--devices", "2", "--batch-size", "32", "--strategy", "ddp_spawn"]
    ),
    "mlp_fsdp": lambda r, c: r.cli(
        "mlp_fsdp", c, [*MLP, "--devices", "2", "--batch-size", "32", "--strategy", "fsdp"]
    ),
    "torchrun": _torchrun_1_node,
    "torchrun_2_nodes": _torchrun_2_nodes,
    "native_torchrun": _native_torchrun,
}


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(tmp_path_factory.mktemp("dist-runs"))
