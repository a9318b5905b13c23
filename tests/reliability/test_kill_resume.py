"""kill -9 at chosen points (mid-epoch, inside a checkpoint write, with a torn temp file),
``--resume last`` each time: the final weights and optimizer state equal an uninterrupted
run bit for bit, every checkpoint left behind verifies, and no temp file is left over.

Runs the real CLI in a subprocess that SIGKILLs itself (killrun.py), on digits with
augmentation and dropout, through the DataLoader path (num_workers 0 and 2) and the
in-memory loader, in both engines. 46 optimizer steps, a mid-epoch checkpoint every 3. The
in-memory cases also carry the training options with step-dependent state (TRAINING_OPTIONS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_same_weights, killrun

import litrain
from litrain.checkpoint import store

COMMON = {
    "trainer.max_epochs": 2,
    "checkpoint.every_n_steps": 3,
    "data.augment": "flip",
    "model.dropout": 0.1,
}

# The training options whose state lives in the checkpoint or depends on the step count: a
# restarting warm schedule, channels-last conv weights, periodic checkpoints, grad-norm logging
# and memory cleanup (the in-memory cases carry them).
TRAINING_OPTIONS = {
    "model.name": "cnn",
    "trainer.channels_last": "true",
    "optim.scheduler.name": "cosine_restarts",
    "optim.scheduler.T_0": 1,
    "optim.scheduler.warmup_epochs": 0.5,
    "checkpoint.keep_every_n_epochs": 1,
    "logging.grad_norm": 2,
    "trainer.memory_cleanup_interval": 5,
}


def _flags(overrides: dict) -> list[str]:
    return [f"--set={k}={v}" for k, v in overrides.items()]


def _run(run_dir: Path, overrides: dict, kill_at: str | None, resume: bool) -> int:
    return killrun(run_dir, kill_at, *_flags(overrides), *(["--resume", "last"] if resume else [])).returncode


def _final(run_dir: Path) -> dict:
    return _final_at(run_dir / "checkpoints" / "last.ckpt")


def _final_at(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "kills"),
    [
        # step:10 mid-epoch 1; write:2 during the 2nd save after resuming (temp complete, not
        # yet renamed); step:14 runs through an epoch end into epoch 2; tear:2 leaves a
        # half-written temp; step:17 stops the in-memory loader mid-epoch.
        ({"data.in_memory": "false", "data.num_workers": 0}, ["step:10", "write:2", "step:14"]),
        ({"data.in_memory": "false", "data.num_workers": 2}, ["tear:2"]),
        ({"data.in_memory": "true", **TRAINING_OPTIONS}, ["step:17"]),
        # the native engine: its own loop, the same loaders and checkpoint writer
        ({"run.engine": "native", "data.in_memory": "false", "data.num_workers": 2}, ["step:10", "write:2"]),
        ({"run.engine": "native", "data.in_memory": "true", **TRAINING_OPTIONS}, ["tear:2", "step:14"]),
    ],
    ids=["dataloader-w0", "dataloader-w2", "in-memory", "native-dataloader-w2", "native-in-memory"],
)
def test_resume_after_kill9_is_bit_identical(tmp_path: Path, overrides: dict, kills: list[str]) -> None:
    cfg = {**COMMON, **overrides}
    ref = litrain.fit(run_dir=tmp_path / "ref", quiet=True, **cfg)
    assert ref.summary["steps"] == 46

    run = tmp_path / "killed"
    for i, kill_at in enumerate(kills):
        code = _run(run, cfg, kill_at, resume=i > 0)
        assert code == -9, f"{kill_at}: expected SIGKILL, got exit code {code}"
        for ckpt in (run / "checkpoints").glob("*.ckpt"):
            assert store.verify(ckpt) is True, f"{ckpt} torn after kill at {kill_at}"
    assert _run(run, cfg, None, resume=True) == 0

    a, b = _final(tmp_path / "ref"), _final(run)
    assert b["global_step"] == a["global_step"] == 46
    assert_same_weights(a["state_dict"], b["state_dict"])
    opt_a, opt_b = a["optimizer_states"][0]["state"], b["optimizer_states"][0]["state"]
    for k in opt_a:
        for name in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(opt_a[k][name], opt_b[k][name])
    periodic = sorted((tmp_path / "ref" / "checkpoints").glob("*periodic.ckpt"))
    assert len(periodic) == (2 if "checkpoint.keep_every_n_epochs" in cfg else 0)
    for path in periodic:  # the kept epoch files are the same as well
        assert_same_weights(
            _final_at(path)["state_dict"], _final_at(run / "checkpoints" / path.name)["state_dict"]
        )
    assert not list(run.rglob(f"*{store.TEMP_SUFFIX}"))
    assert all(store.verify(p) for p in (run / "checkpoints").glob("*.ckpt"))
    # the per-epoch record too: a resumed epoch's train/loss averages all its batches
    assert _history(run) == _history(tmp_path / "ref")


def _history(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "history.json").read_text())


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_a_kill_between_the_last_batch_and_the_epoch_end_loses_no_epoch(tmp_path: Path, engine: str) -> None:
    # a checkpoint after every step: write 23 follows step 23, the epoch's last batch
    # (Lightning would resume a step checkpoint from there at the next epoch, skipping this
    # one's validation); write 24 is the epoch-end save, killed before its rename
    cfg = {"run.engine": engine, "trainer.max_epochs": 2, "checkpoint.every_n_steps": 1}
    ref = litrain.fit(run_dir=tmp_path / "ref", quiet=True, **cfg)
    run = tmp_path / "killed"
    assert _run(run, cfg, "write:24", resume=False) == -9
    assert _run(run, cfg, None, resume=True) == 0
    assert _history(run) == _history(tmp_path / "ref")
    names = {p.name for p in (run / "checkpoints").glob("*.ckpt")}
    assert names == {p.name for p in (tmp_path / "ref" / "checkpoints").glob("*.ckpt")}
    assert_same_weights(_final(tmp_path / "ref")["state_dict"], _final(run)["state_dict"])
    assert ref.summary["steps"] == 46
