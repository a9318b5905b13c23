"""DDP on 2 CPU processes (gloo) against 1 process on the same global batch."""

from __future__ import annotations

import json

import pytest
from dist_helpers import LITRAIN, run, step_losses, summary

pytestmark = pytest.mark.distributed

VAL = ("val/loss", "val/acc", "val/f1", "val/auroc")


def assert_close_metrics(a: dict, b: dict, tol: float) -> None:
    for key in VAL:
        assert a[key] == pytest.approx(b[key], abs=tol), f"{key}: {a[key]} vs {b[key]}"


def test_ddp_cnn_with_sync_batchnorm_matches_one_process(runs):
    # 2 x 32 with batch-norm statistics over both ranks is the 1 x 64 computation, step by
    # step (same samples per global batch: data/sharding.py), up to float summation order.
    one, two = summary(runs.get("cnn_1p")), summary(runs.get("cnn_ddp_syncbn"))
    assert two["steps"] == one["steps"]
    assert_close_metrics(two["metrics"], one["metrics"], tol=2e-3)


def test_ddp_with_accumulation_matches_one_process(runs):
    one, two = summary(runs.get("mlp_1p")), summary(runs.get("mlp_ddp_accum"))
    assert two["steps"] == one["steps"]  # optimizer steps: 2 x 16 x 2 = 64 per step
    assert_close_metrics(two["metrics"], one["metrics"], tol=2e-3)


def test_two_process_evaluation_equals_one_process(runs, tmp_path):
    """No sample is duplicated by padding nor dropped: the 2-process numbers of a fixed
    checkpoint are the 1-process numbers."""
    rd = runs.get("cnn_ddp_syncbn")
    ckpt = str(rd / "checkpoints" / "last.ckpt")
    results = {}
    for devices in ("1", "2"):
        run(
            [
                *LITRAIN,
                "validate",
                "--run-dir",
                str(rd),
                "--ckpt",
                ckpt,
                "--accelerator",
                "cpu",
                "--devices",
                devices,
                "--quiet",
            ],
            tmp_path,
        )
        results[devices] = json.loads((rd / "validate_metrics.json").read_text())["metrics"]
    assert set(results["1"]) == set(results["2"])
    for key, value in results["1"].items():
        assert results["2"][key] == pytest.approx(value, rel=1e-6, abs=1e-7), key


def test_only_rank_zero_writes_the_run_dir(runs):
    rd = runs.get("cnn_ddp_syncbn")
    cwd = rd.parent
    assert sorted(p.name for p in cwd.iterdir()) == ["run"]  # no second (timestamped) run dir
    ckpts = sorted(p.name for p in (rd / "checkpoints").glob("*.ckpt"))
    assert len(ckpts) == 2 and "last.ckpt" in ckpts  # best + last, each saved once
    # the quiet CLI prints the run dir once, from rank 0 only
    assert runs.stdout["cnn_ddp_syncbn"].split() == [str(rd)]
    header = (rd / "logs" / "metrics.csv").read_text().splitlines()[0]
    assert (rd / "logs" / "metrics.csv").read_text().count(header) == 1
    s = summary(rd)
    assert s["best_checkpoint"] and s["last_checkpoint"].endswith("last.ckpt")
    history = json.loads((rd / "history.json").read_text())
    assert [row["epoch"] for row in history] == [0]
    assert (rd / "config.yaml").is_file()
    assert len(list((rd / "logs").rglob("events.out.tfevents.*"))) == 1  # one TensorBoard run


def test_ddp_spawn_trains_like_ddp(runs):
    a, b = step_losses(runs.get("torchrun")), step_losses(runs.get("mlp_ddp_spawn"))
    assert len(a) == len(b) > 10
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5
