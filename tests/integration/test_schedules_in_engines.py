"""The new schedules drive the optimizer the same in both engines: the lr logged as train/lr
at each step equals the closed form (warmup, then the schedule)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

import litrain

BASE_LR, MIN_LR, SPE = 0.1, 0.01, 4  # 4 batches an epoch, 1 epoch of warmup
RUN = {
    "optim.name": "sgd",
    "optim.lr": BASE_LR,
    "optim.scheduler.warmup_epochs": 1,
    "optim.scheduler.min_lr": MIN_LR,
    "trainer.max_epochs": 3,
    "trainer.limit_train_batches": SPE,
    "trainer.limit_val_batches": 1,
    "trainer.log_every_n_steps": 1,
    "checkpoint.save_last": False,
}


def closed_form(name: str, step: int, total: int = 3 * SPE) -> float:
    """The lr in force at optimizer step ``step`` (0-based)."""
    if step < SPE:
        return BASE_LR * (step + 1) / (SPE + 1)
    t, progress = step - SPE, (step - SPE) / (total - SPE)
    if name == "cosine_restarts":  # T_0 = 1 epoch, T_mult = 2: cycles of 4, then 8 steps
        cycle = SPE if t < SPE else 2 * SPE
        t = t if t < SPE else t - SPE
        return MIN_LR + (BASE_LR - MIN_LR) * 0.5 * (1 + math.cos(math.pi * t / cycle))
    if name == "linear":
        return BASE_LR - (BASE_LR - MIN_LR) * progress
    if name == "polynomial":  # power 2
        return MIN_LR + (BASE_LR - MIN_LR) * (1 - progress) ** 2
    return BASE_LR * 0.5 ** (step // SPE)  # exponential, gamma 0.5


def logged_lrs(run_dir: Path) -> dict[int, float]:
    with (run_dir / "logs" / "metrics.csv").open(newline="") as f:
        return {int(r["step"]): float(r["train/lr"]) for r in csv.DictReader(f) if r.get("train/lr")}


@pytest.mark.parametrize("engine", ["lightning", "native"])
@pytest.mark.parametrize("name", ["cosine_restarts", "linear", "polynomial", "exponential"])
def test_logged_lr_follows_the_closed_form(tmp_path, engine, name):
    extra = {
        "cosine_restarts": {"T_0": 1, "T_mult": 2},
        "polynomial": {"power": 2},
        "exponential": {"gamma": 0.5},
    }
    keys = {f"optim.scheduler.{k}": v for k, v in extra.get(name, {}).items()}
    result = litrain.fit(
        run_dir=tmp_path,
        quiet=True,
        overwrite=True,
        **RUN,
        **keys,
        **{"run.engine": engine, "optim.scheduler.name": name},
    )
    lrs = logged_lrs(result.run_dir)
    # the row of step s holds the lr after the scheduler stepped: the one step s + 1 uses
    assert sorted(lrs) == list(range(3 * SPE))
    for s, lr in lrs.items():
        assert lr == pytest.approx(closed_form(name, s + 1), rel=1e-6), (s, lr)
