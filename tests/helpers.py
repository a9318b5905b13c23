"""What many tests repeat: a quiet fit into a fresh run dir (and a tiny digits one), the
step losses a run logged, its last checkpoint, a checkpoint's model weights without
Lightning's ``model.`` prefix, and a free localhost port. Killing a run at a chosen point
lives in ``reliability/reliability_helpers.py`` (``killrun``)."""

from __future__ import annotations

import csv
import socket
from pathlib import Path
from typing import Any

import torch

import litrain

# digits, 2 epochs of 5 steps, logged every 2nd step: a few seconds in either engine
TINY: dict[str, Any] = {
    "trainer.accelerator": "cpu",
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 5,
    "trainer.limit_val_batches": 2,
    "trainer.log_every_n_steps": 2,
}


def fit(run_dir: Path, engine: str = "lightning", **overrides: Any) -> litrain.api.RunResult:
    """``litrain.fit`` with ``engine``, quiet, into ``run_dir`` (emptied if it exists)."""
    return litrain.fit(run_dir=run_dir, quiet=True, overwrite=True, **{**overrides, "run.engine": engine})


def tiny_fit(run_dir: Path, engine: str = "lightning", **overrides: Any) -> litrain.api.RunResult:
    """:func:`fit` on :data:`TINY` (``overrides`` win)."""
    return fit(run_dir, engine, **{**TINY, **overrides})


def step_losses(run_dir: Path) -> list[float]:
    """``train/loss_step`` of every logged step, in order (logs/metrics.csv)."""
    with (Path(run_dir) / "logs" / "metrics.csv").open(newline="") as f:
        return [float(r["train/loss_step"]) for r in csv.DictReader(f) if r.get("train/loss_step")]


def step_loss_tensor(run_dir: Path) -> torch.Tensor:
    """:func:`step_losses` as a float64 tensor."""
    return torch.tensor(step_losses(run_dir), dtype=torch.float64)


def last_checkpoint(run_dir: Path) -> dict[str, Any]:
    """The run's checkpoints/last.ckpt, loaded as litrain loads it (weights only, on the CPU)."""
    return torch.load(Path(run_dir) / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


def bare(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict without the ``model.`` prefix of Lightning's TaskModule (native
    checkpoints have none), so both engines' weights compare key by key."""
    return {k.removeprefix("model."): v for k, v in state.items()}


def bare_weights(path: Path) -> dict[str, torch.Tensor]:
    """The model weights (``state_dict``, :func:`bare`) of a checkpoint file, or of a run
    dir's last.ckpt."""
    path = Path(path)
    if path.is_dir():
        return bare(last_checkpoint(path)["state_dict"])
    return bare(torch.load(path, map_location="cpu", weights_only=True)["state_dict"])


def free_port() -> int:
    """A localhost TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
