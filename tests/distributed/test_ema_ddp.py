"""trainer.ema under 2-process torchrun, in both engines: every rank holds the same EMA
(parameters are identical after each all-reduced step), rank 0's checkpoint saves it, and
the two engines' EMA weights agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from dist_helpers import BASE, TORCHRUN, run

pytestmark = pytest.mark.distributed

HERE = Path(__file__).parent
ARGS = [
    "--epochs",
    "2",
    "--trainer.limit_train_batches",
    "3",
    "--trainer.limit_val_batches",
    "1",
    "--trainer.ema.decay",
    "0.9",
]


def test_ema_is_one_and_the_same_on_every_rank_in_both_engines(tmp_path):
    dump = tmp_path / "ema"
    launch = [*TORCHRUN, "--standalone", "--nproc-per-node", "2", str(HERE / "ema_dump_run.py")]
    saved = {}
    for engine in ("lightning", "native"):
        run_dir = tmp_path / engine
        run(
            [*launch, *BASE, *ARGS, "--engine", engine, "--run-dir", str(run_dir)],
            tmp_path,
            extra_env={"LITRAIN_EMA_DUMP": str(dump)},
        )
        ranks = [torch.load(dump / f"{engine}-rank{r}.pt", weights_only=True) for r in (0, 1)]
        assert ranks[0].keys() == ranks[1].keys()
        assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0]), f"{engine}: ranks differ"
        ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
        assert ckpt["ema"] == {"updates": 6}
        ema = {k.removeprefix("model."): v for k, v in ckpt["ema_state_dict"].items()}
        assert all(torch.equal(ema[k], ranks[0][k]) for k in ema)
        saved[engine] = ema
    for k, v in saved["native"].items():
        torch.testing.assert_close(saved["lightning"][k], v, rtol=1e-5, atol=1e-6)
