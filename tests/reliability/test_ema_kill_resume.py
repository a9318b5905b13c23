"""trainer.ema survives kill -9: a run killed mid-epoch and resumed with ``--resume last``
ends with the raw AND the EMA weights of an uninterrupted run, bit for bit, in both engines.

16 optimizer steps (2 epochs of 8 batches), a mid-epoch checkpoint every 3 steps; the EMA
starts at step 1 and updates every 2 steps with the warmed-up decay, so the resumed run has
to pick up the EMA, its update count and the cadence exactly. Killed at the 12th batch:
inside epoch 1, after the mid-epoch save at step 9."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_same_weights, killrun

import litrain

RUN = {
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 8,
    "trainer.limit_val_batches": 1,
    "checkpoint.every_n_steps": 3,
    "trainer.ema.decay": 0.8,
    "trainer.ema.start_step": 1,
    "trainer.ema.update_every": 2,
}


def _last(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_ema_resumes_bit_identically_after_kill9(tmp_path: Path, engine: str) -> None:
    cfg = {**RUN, "run.engine": engine}
    ref = _last(litrain.fit(run_dir=tmp_path / "ref", quiet=True, **cfg).run_dir)

    run = tmp_path / "killed"
    flags = [f"--set={k}={v}" for k, v in cfg.items()]
    assert killrun(run, "step:12", *flags).returncode == -9
    assert _last(run)["global_step"] == 9  # the mid-epoch save it resumes from
    done = killrun(run, None, *flags, "--resume", "last")
    assert done.returncode == 0, done.stderr[-2000:]

    out = _last(run)
    assert out["global_step"] == ref["global_step"] == 16
    assert out["ema"] == ref["ema"] == {"updates": 8}  # steps 1, 3, ..., 15
    assert_same_weights(ref["state_dict"], out["state_dict"])
    assert_same_weights(ref["ema_state_dict"], out["ema_state_dict"])
    assert not all(torch.equal(ref["state_dict"][k], ref["ema_state_dict"][k]) for k in ref["state_dict"])
