"""kill -9 with augmentation and mixup on, then ``--resume last``: the final weights and
optimizer state equal an uninterrupted run's bit for bit. The device batch augmentation and
mixup/cutmix draw from generators seeded by (seed, rank, epoch, batch), so nothing of theirs
needs saving; class-aware strength and label smoothing ride along."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_same_weights, killrun

import litrain

RUN = {
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 6,
    "trainer.limit_val_batches": 1,
    "checkpoint.every_n_steps": 2,
    "model.dropout": 0.1,
    "data.augment": "medium",
    "data.augment_device": "device",
    "data.augment_class_strength": "auto",
    "data.mixup.alpha": 0.4,
    "data.mixup.cutmix_alpha": 1.0,
    "task.label_smoothing": 0.1,
}


def _final(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("engine", "kills"),
    # step:4 mid-epoch 0 (resumes at step 2); step:6 then lands in epoch 1 of the resumed run
    [("lightning", ["step:4", "step:6"]), ("native", ["step:5"])],
)
def test_resume_with_mixup_and_device_augment_is_bit_identical(tmp_path, engine, kills):
    cfg = {**RUN, "run.engine": engine}
    ref = litrain.fit(run_dir=tmp_path / "ref", quiet=True, **cfg)
    assert ref.summary["steps"] == 12
    flags = [f"--set={k}={v}" for k, v in cfg.items()]
    run = tmp_path / "killed"
    for i, kill_at in enumerate(kills):
        proc = killrun(run, kill_at, *flags, *(["--resume", "last"] if i else []))
        assert proc.returncode == -9, proc.stderr[-3000:]
    proc = killrun(run, None, *flags, "--resume", "last")
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = _final(tmp_path / "ref"), _final(run)
    assert b["global_step"] == a["global_step"] == 12
    assert_same_weights(a["state_dict"], b["state_dict"])
    opt_a, opt_b = a["optimizer_states"][0]["state"], b["optimizer_states"][0]["state"]
    for k in opt_a:
        assert torch.equal(opt_a[k]["exp_avg"], opt_b[k]["exp_avg"])
