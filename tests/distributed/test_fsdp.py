"""FSDP on 2 CPU processes: FSDP2 fully_shard under Lightning's ModelParallelStrategy."""

from __future__ import annotations

import json

import pytest
import torch
from dist_helpers import LITRAIN, run, step_losses, summary

pytestmark = pytest.mark.distributed


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
