"""kill -9 after an unfreeze, ``--resume last``: an adaptive freezing run (the strategy whose
decisions depend on saved state: the unfrozen groups, the patience count and the gradient-norm
averages) ends bit-identical to the uninterrupted run. Lightning engine, mid-epoch
checkpoints every 3 steps; the native engine's resume of the same policy state is in
tests/integration/test_finetune_training.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_same_weights, killrun

import litrain

CFG = {
    "model.name": "cnn",
    "trainer.max_epochs": 3,
    "trainer.limit_train_batches": 8,
    "trainer.limit_val_batches": 1,
    "trainer.log_every_n_steps": 1,
    "checkpoint.every_n_steps": 3,
    # a constant lr never improves under mode max: a group unfreezes at the end of epoch 1
    # and another at the end of epoch 2, picked by the gradient-norm averages
    "optim.scheduler.name": "none",
    "finetune.strategy": "adaptive",
    "finetune.monitor": "train/lr",
    "finetune.mode": "max",
}


def _final(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


@pytest.mark.slow
def test_adaptive_run_killed_after_an_unfreeze_resumes_bit_identical(tmp_path: Path) -> None:
    ref = litrain.fit(run_dir=tmp_path / "ref", quiet=True, **CFG)
    rows = json.loads((ref.run_dir / "history.json").read_text())
    assert [r["train/unfrozen_groups"] for r in rows] == [1.0, 1.0, 2.0]

    run = tmp_path / "killed"
    flags = [f"--set={k}={v}" for k, v in CFG.items()]
    # batch 20 is epoch 2's 4th, after the unfreeze at epoch 1's end; last.ckpt is from step 18
    assert killrun(run, "step:20", *flags).returncode == -9
    assert _final(run)["global_step"] == 18
    assert killrun(run, None, *flags, "--resume", "last").returncode == 0

    a, b = _final(tmp_path / "ref"), _final(run)
    assert b["global_step"] == a["global_step"] == 24
    assert_same_weights(a["state_dict"], b["state_dict"])
    assert a["callbacks"]["Finetuning"]["unfrozen"] == b["callbacks"]["Finetuning"]["unfrozen"]
    assert torch.equal(a["callbacks"]["Finetuning"]["grad_ema"], b["callbacks"]["Finetuning"]["grad_ema"])
    resumed_rows = json.loads((run / "history.json").read_text())
    assert [r["train/unfrozen_groups"] for r in resumed_rows] == [1.0, 1.0, 2.0]
