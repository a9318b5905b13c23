"""The issue's command: FSDP with bf16 on resnet18_cifar (BatchNorm), 2 CPU processes
(``--devices 2 --accelerator cpu --strategy fsdp``), used to crash on both ranks with
"expected scalar type BFloat16 but found Float"."""

from __future__ import annotations

import math

import pytest
from dist_helpers import LITRAIN, run, summary

pytestmark = pytest.mark.distributed


def test_fsdp_bf16_trains_resnet_with_batchnorm(tmp_path):
    rd = tmp_path / "run"
    proc = run(
        [
            *LITRAIN,
            "fit",
            "--model",
            "resnet18_cifar",
            "--data.source",
            "synthetic",
            "--data.shape",
            "[3, 16, 16]",
            "--data.num_samples",
            "48",
            "--batch-size",
            "8",
            "--accelerator",
            "cpu",
            "--devices",
            "2",
            "--strategy",
            "fsdp",
            "--trainer.fsdp.mixed_precision",
            "bf16",
            "--trainer.fsdp.auto_wrap_layers",
            "[BasicBlock]",
            "--epochs",
            "1",
            "--trainer.limit_train_batches",
            "2",
            "--trainer.limit_val_batches",
            "1",
            "--run-dir",
            str(rd),
        ],
        tmp_path,
        timeout=600,
    )
    s = summary(rd)
    assert s["steps"] == 2 and s["launch"]["world_size"] == 2
    assert math.isfinite(s["metrics"]["train/loss"]) and math.isfinite(s["metrics"]["val/loss"])
    # one line at start, from rank 0 only: 20 BatchNorm2d (fp32) + 8 BasicBlock + the root
    lines = [line for line in proc.stderr.splitlines() if "FSDP wrapped" in line]
    assert lines == ["litrain: FSDP wrapped 29 unit(s): 8 BasicBlock, 20 BatchNorm2d + the root module"]
