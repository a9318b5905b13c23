"""Regression metrics under 2-process DDP (gloo, Lightning's launcher) are the 1-process
metrics: every metric keeps sums that are all-reduced, and the evaluation shards hold each
sample once (an odd split, so the ranks hold uneven shares)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dist_helpers import LITRAIN, run

import litrain

pytestmark = pytest.mark.distributed

# A field model torch itself ships: (N, 2, 16) -> (N, 2, 16)
CONV = {
    "model.class_path": "torch.nn.Conv1d",
    "model.init_args": {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": 1},
}


def _data(root: Path, case: str) -> Path:
    g = np.random.default_rng(3)
    if case == "vector":
        x = g.normal(size=(101, 4))
        y = x @ g.normal(size=(4, 3))
    else:
        x = g.normal(size=(101, 2, 16))
        y = np.stack([x[:, 0] * 2, x[:, 0] * x[:, 1]], 1)
        y[:5, 1] = 0.0  # all-zero target channels: nrmse stays finite under DDP too
    np.savez(root / f"{case}.npz", x=x.astype(np.float32), y=y.astype(np.float32))
    return root / f"{case}.npz"


@pytest.mark.parametrize("case", ["vector", "field"])
def test_two_process_regression_metrics_equal_one_process(tmp_path, case):
    extra = CONV if case == "field" else {}
    fitted = litrain.fit(
        run_dir=tmp_path / "run",
        quiet=True,
        **{
            "data.source": "arrays",
            "data.root": str(_data(tmp_path, case)),
            "data.val_split": 0.33,  # 33 samples: 17 + 16 on two ranks
            "task.type": "regression",
            "trainer.max_epochs": 1,
            "trainer.accelerator": "cpu",
            **extra,
        },
    )
    rd = fitted.run_dir
    one = litrain.validate(run_dir=rd, checkpoint="last", quiet=True).metrics
    argv = [*LITRAIN, "validate", "--run-dir", str(rd), "--ckpt", "last"]
    run([*argv, "--accelerator", "cpu", "--devices", "2", "--quiet"], tmp_path)
    two = json.loads((rd / "validate_metrics.json").read_text())["metrics"]
    expected = {"vector": {"val/r2", "val/rmse"}, "field": {"val/nrmse", "val/nrmse/ch1", "val/rel_l2"}}[case]
    assert expected <= set(one) and set(two) == set(one)
    for key, value in one.items():
        assert np.isfinite(value), key
        assert two[key] == pytest.approx(value, rel=1e-6, abs=1e-7), key
