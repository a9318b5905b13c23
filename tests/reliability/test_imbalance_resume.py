"""A class-weighted sampler resumes mid-epoch exactly: kill -9 inside epoch 1 of a
progressive (epoch-dependent) or balanced schedule, ``--resume last``, and the final weights
equal an uninterrupted run's bit for bit. Its epoch is a pure function of (seed, epoch), so
the loaders' own skip mechanism (StatefulDataLoader, the in-memory ReplayLoader) lands on the
same draws. Lightning + DataLoader path, native + in-memory path; 12 steps each."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_same_weights, killrun

import litrain

COMMON = {
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 6,
    "trainer.limit_val_batches": 1,
    "checkpoint.every_n_steps": 2,
    "data.progressive_epochs": 2,
    "task.loss": "focal",
    "task.class_weights": "auto",
    "model.dropout": 0.1,
}


def _flags(overrides: dict) -> list[str]:
    return [f"--set={k}={v}" for k, v in overrides.items()]


def _final(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


@pytest.mark.parametrize(
    "overrides",
    [
        {"run.engine": "lightning", "data.sampler": "progressive", "data.in_memory": "false"},
        {"run.engine": "native", "data.sampler": "balanced", "data.in_memory": "true"},
    ],
    ids=["lightning-dataloader-progressive", "native-in-memory-balanced"],
)
def test_weighted_sampler_resumes_bit_identically_after_kill9(tmp_path: Path, overrides: dict) -> None:
    cfg = {**COMMON, **overrides}
    ref = litrain.fit(run_dir=tmp_path / "ref", quiet=True, **cfg)
    assert ref.summary["steps"] == 12

    run = tmp_path / "killed"
    # the 9th batch is epoch 1's third: last.ckpt (step 8) is mid-epoch
    assert killrun(run, "step:9", *_flags(cfg)).returncode == -9
    assert _final(run)["global_step"] == 8
    resumed = killrun(run, None, *_flags(cfg), "--resume", "last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    a, b = _final(tmp_path / "ref"), _final(run)
    assert a["global_step"] == b["global_step"] == 12
    assert_same_weights(a["state_dict"], b["state_dict"])
