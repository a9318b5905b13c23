"""2-process DDP under torchrun, both engines: only rank 1 gets SIGTERM mid-epoch; both
ranks stop on the same step after one checkpoint, and ``--resume last`` ends with weights
equal to an uninterrupted 2-process run, with seeded flip augmentation and dropout on the
DataLoader path (the sharded train loader keeps the StatefulDataLoader position and the
(epoch, index) seeding of one process). Digits on 2 ranks x 32: 23 steps per epoch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_same_weights, killrun, load_weights

from litrain.checkpoint import store
from litrain.reliability.preemption import REQUEUE_EXIT_CODE

pytestmark = [pytest.mark.slow, pytest.mark.distributed]


@pytest.mark.parametrize(("engine", "workers"), [("native", 0), ("lightning", 2)])
def test_ranks_agree_to_stop_and_the_resume_is_exact(tmp_path: Path, engine: str, workers: int) -> None:
    flags = [
        *("--engine", engine, "--epochs", "2", "--batch-size", "32", "--accelerator", "cpu"),
        *("--set", "model.dropout=0.1", "--set", "data.augment=flip", "--set", "data.in_memory=false"),
        *("--num-workers", str(workers)),
    ]
    ref = killrun(tmp_path / "ref", "", *flags, torchrun=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    run = tmp_path / "run"
    stopped = killrun(run, "term:30:1", *flags, torchrun=True)
    out = stopped.stdout + stopped.stderr
    assert stopped.returncode != 0 and f"exitcode  : {REQUEUE_EXIT_CODE}" in out, out[-3000:]
    # one message, from rank 0, which learnt of rank 1's signal at the agreed step
    assert out.count("received: saved") == 1 and "a signal on another rank received: saved" in out
    last = run / "checkpoints" / "last.ckpt"
    assert store.verify(last) and torch.load(last, weights_only=True)["global_step"] == 30
    resumed = killrun(run, "", *flags, "--resume", "last", torchrun=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert torch.load(last, weights_only=True)["global_step"] == 46
    assert_same_weights(load_weights(tmp_path / "ref" / "checkpoints" / "last.ckpt"), load_weights(last))
