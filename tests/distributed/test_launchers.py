"""torchrun, single node and two 'nodes' on localhost, run the same training as Lightning's
own launcher; litrain reads the torchelastic env vars for devices and nodes."""

from __future__ import annotations

import pytest
from dist_helpers import step_losses, summary

pytestmark = pytest.mark.distributed


def test_torchrun_single_node_matches_one_process(runs):
    rd = runs.get("torchrun")  # asserts that both ranks agreed on one timestamped run dir
    one, two = summary(runs.get("mlp_1p")), summary(rd)
    assert two["steps"] == one["steps"]
    for key in ("val/loss", "val/acc", "val/f1"):
        assert two["metrics"][key] == pytest.approx(one["metrics"][key], abs=2e-3), key
    assert runs.stdout["torchrun"].split() == [str(rd.relative_to(rd.parents[2]))]


def test_torchrun_two_nodes_on_localhost_equals_one_node(runs):
    single, multi = runs.get("torchrun"), runs.get("torchrun_2_nodes")
    assert summary(multi)["steps"] == summary(single)["steps"]
    a, b = step_losses(single), step_losses(multi)
    assert len(a) == len(b) > 10
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5
    assert sorted(p.name for p in (multi / "checkpoints").glob("*.ckpt"))[-1] == "last.ckpt"
