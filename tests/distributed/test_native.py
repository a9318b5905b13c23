"""The native engine under torchrun against the Lightning engine under torchrun."""

from __future__ import annotations

import pytest
from dist_helpers import step_losses, summary

pytestmark = pytest.mark.distributed


def test_native_ddp_step_losses_equal_lightning_ddp(runs):
    lightning, native = runs.get("torchrun"), runs.get("native_torchrun")
    a, b = step_losses(lightning), step_losses(native)
    assert len(a) == len(b) > 10
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5
    sl, sn = summary(lightning), summary(native)
    assert sn["engine"] == "native" and sn["steps"] == sl["steps"]
    for key in ("val/loss", "val/acc", "val/f1", "val/auroc"):
        assert sn["metrics"][key] == pytest.approx(sl["metrics"][key], abs=1e-5), key
    # rank 0 alone wrote the run dir: one set of checkpoints
    assert sorted(p.name for p in (native / "checkpoints").glob("*.ckpt"))[-1] == "last.ckpt"
    assert len(list((native / "checkpoints").glob("*.ckpt"))) == 2
