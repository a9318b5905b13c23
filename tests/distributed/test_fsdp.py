"""FSDP on 2 CPU processes: FSDP2 fully_shard under Lightning's ModelParallelStrategy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from dist_helpers import BASE, LITRAIN, run, step_losses, summary

import litrain
from litrain.checkpoint import store

pytestmark = pytest.mark.distributed

HERE = str(Path(__file__).parent)  # crash_callback is imported from here by class_path


def test_fsdp_losses_equal_ddp(runs):
    ddp, fsdp = step_losses(runs.get("torchrun")), step_losses(runs.get("mlp_fsdp"))
    assert len(ddp) == len(fsdp) > 10
    assert max(abs(a - b) for a, b in zip(ddp, fsdp, strict=True)) < 1e-5


def test_sharded_checkpoint_consolidates_and_reloads(runs, tmp_path):
    rd = runs.get("mlp_fsdp")
    sharded = rd / "checkpoints" / "last.ckpt"
    assert sharded.is_dir() and len(list(sharded.glob("*.distcp"))) == 2  # one shard per rank
    out = tmp_path / "full.ckpt"
    proc = run([*LITRAIN, "convert", "--consolidate", str(sharded), str(out)], tmp_path)
    assert proc.stdout.strip() == str(out)
    ckpt = torch.load(out, map_location="cpu", weights_only=True)
    assert not any(k.startswith("_fsdp") for k in ckpt["state_dict"])
    # one process evaluates the consolidated file to the FSDP run's own final numbers
    run(
        [
            *LITRAIN,
            "validate",
            "--run-dir",
            str(rd),
            "--ckpt",
            str(out),
            "--accelerator",
            "cpu",
            "--devices",
            "1",
            "--quiet",
        ],
        tmp_path,
    )
    got = json.loads((rd / "validate_metrics.json").read_text())["metrics"]
    want = summary(rd)["metrics"]
    for key in ("val/loss", "val/acc", "val/auroc"):
        assert got[key] == pytest.approx(want[key], rel=1e-5), key


def test_sharded_checkpoint_is_refused_by_validate_with_the_fix(runs, tmp_path):
    rd = runs.get("mlp_fsdp")
    proc = run(
        [
            *LITRAIN,
            "validate",
            "--run-dir",
            str(rd),
            "--ckpt",
            str(rd / "checkpoints" / "last.ckpt"),
            "--accelerator",
            "cpu",
            "--devices",
            "1",
            "--quiet",
        ],
        tmp_path,
        check=False,
    )
    assert proc.returncode == 2
    assert "litrain convert --consolidate" in proc.stderr


def _step(sharded: Path) -> int:
    return torch.load(sharded / "meta.pt", weights_only=True)["global_step"]


def test_sharded_saves_leave_whole_dirs_and_no_temp_dirs(runs):
    ckpts = runs.get("mlp_fsdp") / "checkpoints"
    assert all(p.name.endswith(".ckpt") and p.is_dir() and store.is_valid(p) for p in ckpts.iterdir())
    assert _step(ckpts / "last.ckpt") == summary(runs.get("mlp_fsdp"))["steps"]


@pytest.mark.slow
def test_crash_between_shard_write_and_swap_keeps_old_dir_and_resume_matches(runs, tmp_path):
    # The mlp_fsdp run again, saving last.ckpt every 5 steps; rank 0 is SIGKILLed once the
    # step-15 checkpoint is written to its staging dir, before the swap.
    rd, ckpts = tmp_path / "run", tmp_path / "run" / "checkpoints"
    crash = "trainer.callbacks=[{class_path: crash_callback.CrashBeforeSwap, init_args: {step: 15}}]"
    fsdp = ["--model", "mlp", "--devices", "2", "--batch-size", "32", "--strategy", "fsdp"]
    args = [*BASE, *fsdp, "--run-dir", str(rd), "--set", "checkpoint.every_n_steps=5", "--set", crash]
    proc = run([*LITRAIN, *args], tmp_path, check=False, extra_env={"PYTHONPATH": HERE})
    assert proc.returncode == -9, proc.stderr[-3000:]
    # rank 1 left too, with the line naming rank 0 (its stderr was ours: EOF came after it)
    assert re.search(r"^litrain: rank 0 \(pid \d+\) died; the run stopped\.", proc.stderr, re.M)
    assert store.is_valid(ckpts / "last.ckpt") and _step(ckpts / "last.ckpt") == 10  # the old one
    staged = ckpts / f".last.ckpt.new{store.TEMP_SUFFIX}"
    assert store.is_valid(staged) and _step(staged) == 15  # written whole, never swapped in

    resume = ["fit", "--quiet", "--run-dir", str(rd), "--resume", "last", "--set", "trainer.callbacks=[]"]
    run([*LITRAIN, *resume], tmp_path)
    assert not [p for p in ckpts.iterdir() if p.name.endswith(store.TEMP_SUFFIX)]
    assert store.is_valid(ckpts / "last.ckpt") and _step(ckpts / "last.ckpt") == 23
    # resumed from step 10 of 23, the run ends where the uninterrupted one did
    got, want = summary(rd), summary(runs.get("mlp_fsdp"))
    assert got["steps"] == want["steps"] == 23
    for key in ("val/loss", "val/acc", "val/auroc"):
        assert got["metrics"][key] == pytest.approx(want["metrics"][key], rel=1e-6), key


def test_full_state_fsdp_files_are_written_atomically_with_checksums(tmp_path):
    # state_dict=full: rank 0 writes one file through the strategy's checkpoint IO
    from litrain.engines.lightning.fsdp_strategy import AtomicModelParallelStrategy
    from litrain.engines.lightning.trainer import build_trainer

    over = {"trainer.strategy": "fsdp", "trainer.devices": 2, "trainer.accelerator": "cpu"}
    cfg = litrain.load_config(overrides={**over, "trainer.fsdp.state_dict": "full"})
    strategy = build_trainer(cfg, tmp_path, quiet=True).strategy
    assert isinstance(strategy, AtomicModelParallelStrategy) and not strategy._save_distributed_checkpoint
    strategy.checkpoint_io.save_checkpoint({"w": torch.ones(3)}, tmp_path / "last.ckpt")
    assert store.verify(tmp_path / "last.ckpt") is True
