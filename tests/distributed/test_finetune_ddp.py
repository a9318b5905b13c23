"""Freezing under 2-process DDP (torchrun): both ranks unfreeze the same groups at the same
step and end with equal weights, in the adaptive strategy, whose decisions come from the
rank-synced monitor and the gradient norms of the all-reduced gradients. The native engine
under torchrun unfreezes at the same epochs and trains to the same weights as Lightning."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from dist_helpers import BASE, TORCHRUN_LITRAIN_2, run

pytestmark = pytest.mark.distributed
HERE = str(Path(__file__).parent)  # dump_finetune_callback is imported from here

ARGS = [
    "--model",
    "cnn",
    "--epochs",
    "3",
    "--trainer.limit_train_batches",
    "3",
    "--trainer.limit_val_batches",
    "1",
    # a constant lr never improves under mode max: a group unfreezes at each epoch's end
    "--optim.scheduler.name",
    "none",
    "--finetune.strategy",
    "adaptive",
    "--finetune.monitor",
    "train/lr",
    "--finetune.mode",
    "max",
]


def test_ranks_unfreeze_on_the_same_step(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    callback = json.dumps(
        [{"class_path": "dump_finetune_callback.DumpFinetune", "init_args": {"out": str(dump)}}]
    )
    extra = {"PYTHONPATH": os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p)}
    dirs = {e: tmp_path / e for e in ("lightning", "native")}
    run(
        [
            *TORCHRUN_LITRAIN_2,
            *BASE,
            *ARGS,
            "--engine",
            "lightning",
            "--run-dir",
            str(dirs["lightning"]),
            "--trainer.callbacks",
            callback,
        ],
        tmp_path,
        extra_env=extra,
    )
    run([*TORCHRUN_LITRAIN_2, *BASE, *ARGS, "--engine", "native", "--run-dir", str(dirs["native"])], tmp_path)

    r0, r1 = (torch.load(dump / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["rows"] == r1["rows"]
    assert [(r["step"], sum(r["unfrozen"])) for r in r0["rows"]] == [(0, 1), (3, 1), (6, 2)]
    assert all(torch.equal(r0["weights"][k], r1["weights"][k]) for k in r0["weights"])

    rows = {e: json.loads((d / "history.json").read_text()) for e, d in dirs.items()}
    for e in dirs:
        assert [(r["step"], r["train/unfrozen_groups"]) for r in rows[e]] == [(3, 1.0), (6, 1.0), (9, 2.0)]
    native = torch.load(dirs["native"] / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    for k, v in native.items():
        assert torch.allclose(r0["weights"][f"model.{k}"], v, rtol=1e-5, atol=1e-6), k
