"""Class-weighted sampling under 2-process torchrun, in both engines: each rank reads its
share of the epoch's one global draw, so 2 ranks with batch 32 train exactly the global
batches of 1 process with batch 64, and end with the same weights as that process (the
focal loss is a plain mean over samples, so the two ranks' averaged gradients are the
1-process gradient). Lightning reads through the DataLoader (TrainShardSampler), native
through the in-memory loader, which shards the same draw itself.

What is exact and what is not: the samples are compared exactly (each step's 64 samples of
the 1-process run are the two ranks' 32 + 32). The weights cannot be: the 2-process gradient
is summed in another order (each rank's mean, then the all-reduce) than the 1-process one,
so they differ by float32 rounding. The runs use plain SGD so that rounding stays rounding:
Adam(W) divides each gradient element by its own magnitude, so an element whose gradient
nearly cancels turns a 1e-7 relative difference into a step of up to 2 * lr, and the test
failed by chance on a clean CI run at atol 2e-6. With SGD (no momentum, no decay) a step
changes a weight by lr * g; g's rounding error is at most ~n * eps * sum|terms| with n = 64
samples, eps = 1.2e-7 and per-sample terms below 1 here, i.e. < 1e-5, so 6 steps at lr 0.05
move the runs apart by less than 6 * 0.05 * 1e-5 = 3e-6 (the error in the weights themselves
feeds back through 6 steps only at second order). A draw that differed by even one sample
changes a step's gradient by ~1/64 of a sample's term, lr times that is ~1e-4 or more, far
outside the tolerance, so the weight comparison still proves the runs trained alike."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from dist_helpers import BASE, TORCHRUN, run

pytestmark = pytest.mark.distributed

HERE = Path(__file__).parent
RECORD = [str(HERE / "draw_record_run.py")]
OPTIONS = {
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 3,
    "trainer.limit_val_batches": 1,
    "data.sampler": "progressive",
    "data.progressive_epochs": 1,
    "task.loss": "focal",
    "task.class_weights": "inverse",
    "optim.name": "sgd",
    "optim.lr": 0.05,
    "optim.momentum": 0,
    "optim.weight_decay": 0,
}
WEIGHT_ATOL = 3e-6  # the float32 bound of the module docstring


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items()}


def _draw(out: Path, rank: int) -> list[list[str]]:
    return json.loads((out / f"rank{rank}.json").read_text())


def _fit(launcher: list[str], tmp_path: Path, name: str, engine: str, batch_size: int) -> Path:
    flags = [f"--set={k}={v}" for k, v in OPTIONS.items()]
    loader = f"--set=data.in_memory={'true' if engine == 'native' else 'false'}"
    args = [*BASE, *flags, loader, "--batch-size", str(batch_size), "--engine", engine]
    record = tmp_path / f"{name}-draw"
    run(
        [*launcher, *args, "--run-dir", str(tmp_path / name)],
        tmp_path,
        extra_env={"LITRAIN_RECORD_DRAW": str(record)},
    )
    return record


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_ranks_together_train_the_one_process_draw(tmp_path, engine):
    one = _fit([sys.executable, *RECORD], tmp_path, "one", engine, 64)
    two = _fit([*TORCHRUN, "--standalone", "--nproc-per-node", "2", *RECORD], tmp_path, "two", engine, 32)

    steps = _draw(one, 0)
    rank0, rank1 = _draw(two, 0), _draw(two, 1)
    assert len(steps) == len(rank0) == len(rank1) == 6
    for step, (whole, a, b) in enumerate(zip(steps, rank0, rank1, strict=True)):
        assert len(whole) == 64 and len(a) == len(b) == 32, step
        assert Counter(a) + Counter(b) == Counter(whole), f"step {step}: the ranks did not share the draw"

    expected, got = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, rtol=0, atol=WEIGHT_ATOL, msg=f"{engine}: {key}")
