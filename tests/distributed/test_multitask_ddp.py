"""A multitask run under 2-process DDP (gloo): its per-head metrics equal 1 process's on the
same weights, and the loss weighting's state (learned log-variances, dwa weights and epoch sums) is
the same on both ranks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
import yaml
from dist_helpers import LITRAIN, run, summary

from multitask_data import HEADS, write_npz

pytestmark = pytest.mark.distributed
HERE = str(Path(__file__).parent)  # dump_weighting_callback is imported from here


def _fit(tmp: Path, name: str, devices: int, batch: int, weighting: str) -> Path:
    data = tmp / "mt.npz"
    if not data.exists():
        write_npz(data)
    cfg = {
        "data": {"source": "arrays", "root": str(data), "batch_size": batch},
        "model": {"name": "mlp"},
        "task": {"type": "multitask", "heads": HEADS, "weighting": weighting},
        "trainer": {
            "max_epochs": 3,
            "accelerator": "cpu",
            "devices": devices,
            "callbacks": [
                {
                    "class_path": "dump_weighting_callback.DumpWeighting",
                    "init_args": {"out": str(tmp / name / "dump")},
                }
            ],
        },
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run(
        [*LITRAIN, "fit", "--quiet", "--config", str(path), "--run-dir", str(tmp / name / "run")],
        tmp,
        extra_env={"PYTHONPATH": os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p)},
    )
    return tmp / name


@pytest.mark.slow
def test_multitask_ddp_metrics_equal_one_process_and_ranks_agree(tmp_path: Path):
    two = _fit(tmp_path, "two", 2, 32, "uncertainty")
    r0, r1 = (torch.load(two / "dump" / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0.keys() == r1.keys() == {"model.weighting.log_vars"}
    assert torch.equal(r0["model.weighting.log_vars"], r1["model.weighting.log_vars"])
    assert not torch.equal(r0["model.weighting.log_vars"], torch.zeros(3))  # trained

    # the 2-process run's last validation (its final weights) against 1 process on them
    ddp = summary(two / "run")["metrics"]
    argv = ["validate", "--run-dir", str(two / "run"), "--ckpt", "last", "--accelerator", "cpu"]
    # the run's dump callback is for training only
    run([*LITRAIN, *argv, "--devices", "1", "--quiet", "--set", "trainer.callbacks=[]"], tmp_path)
    one = json.loads((two / "run" / "validate_metrics.json").read_text())["metrics"]
    assert {
        "val/severity/f1",
        "val/action/balanced_acc",
        "val/loss/score",
        "val/score/mae",
        "val/mean_acc",
    } <= set(one)
    for key, value in one.items():
        assert ddp[key] == pytest.approx(value, rel=1e-6, abs=1e-7), key


@pytest.mark.slow
def test_dwa_under_ddp_rolls_the_global_epoch_losses(tmp_path: Path):
    two = _fit(tmp_path, "dwa", 2, 32, "dwa")
    r0, r1 = (torch.load(two / "dump" / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
    w = r0["model.weighting.dwa_weights"]
    assert not torch.equal(w, torch.ones(3)) and float(w.sum()) == pytest.approx(3.0, abs=1e-5)
    # the epoch sums count every training sample of both ranks: 192 per epoch
    assert float(r0["model.weighting.dwa_count"]) == 192
