"""Periodic checkpoints and gradient-norm logging under 2-process torchrun, in both engines:
rank 0 writes the same periodic files, and the logged norms (of the all-reduced gradients)
agree between the engines."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from dist_helpers import BASE, TORCHRUN_LITRAIN_2, run

pytestmark = pytest.mark.distributed

ARGS = [
    "--epochs",
    "2",
    "--trainer.limit_train_batches",
    "3",
    "--trainer.limit_val_batches",
    "1",
    "--checkpoint.keep_every_n_epochs",
    "1",
    "--logging.grad_norm",
    "2",
]


def grad_norms(run_dir: Path) -> list[float]:
    with (run_dir / "logs" / "metrics.csv").open(newline="") as f:
        return [float(r["train/grad_norm"]) for r in csv.DictReader(f) if r.get("train/grad_norm")]


def test_periodic_checkpoints_and_grad_norms_under_ddp(tmp_path):
    dirs = {}
    for engine in ("lightning", "native"):
        dirs[engine] = tmp_path / engine
        run([*TORCHRUN_LITRAIN_2, *BASE, *ARGS, "--engine", engine, "--run-dir", str(dirs[engine])], tmp_path)
    names = {e: sorted(p.name for p in (d / "checkpoints").glob("*periodic.ckpt")) for e, d in dirs.items()}
    assert names["lightning"] == names["native"] == ["epoch=00-periodic.ckpt", "epoch=01-periodic.ckpt"]
    light, native = grad_norms(dirs["lightning"]), grad_norms(dirs["native"])
    assert len(light) == len(native) == 6
    assert native == pytest.approx(light, rel=1e-5)
