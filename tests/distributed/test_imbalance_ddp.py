"""Class-weighted sampling under 2-process torchrun, in both engines: each rank reads its
share of the epoch's one global draw, so 2 ranks with batch 32 train exactly the global
batches of 1 process with batch 64, and end with the same weights as that process (the
focal loss is a plain mean over samples, so the two ranks' averaged gradients are the
1-process gradient). Lightning reads through the DataLoader (TrainShardSampler), native
through the in-memory loader, which shards the same draw itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from dist_helpers import BASE, TORCHRUN_LITRAIN_2, run

import litrain

pytestmark = pytest.mark.distributed

OPTIONS = {
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 3,
    "trainer.limit_val_batches": 1,
    "data.sampler": "progressive",
    "data.progressive_epochs": 1,
    "task.loss": "focal",
    "task.class_weights": "inverse",
}


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items()}


def test_ranks_together_train_the_one_process_draw(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ref = litrain.fit(run_dir=tmp_path / "one", quiet=True, **OPTIONS, **{"data.batch_size": 64})
    finally:
        torch.set_num_threads(threads)
    expected = _weights(ref.run_dir)
    flags = [f"--set={k}={v}" for k, v in OPTIONS.items()]
    for engine, in_memory in (("lightning", "false"), ("native", "true")):
        run_dir = tmp_path / engine
        loader = f"--set=data.in_memory={in_memory}"
        cmd = [*TORCHRUN_LITRAIN_2, *BASE, *flags, loader, "--batch-size", "32", "--engine", engine]
        run([*cmd, "--run-dir", str(run_dir)], tmp_path)
        got = _weights(run_dir)
        assert got.keys() == expected.keys()
        for key, value in expected.items():
            torch.testing.assert_close(got[key], value, rtol=0, atol=2e-6, msg=f"{engine}: {key}")
