"""checkpoint.keep_every_n_epochs keeps epoch=NN-periodic.ckpt every K epochs beside the best
and last checkpoints, with the same names in both engines; each file loads and resumes."""

from __future__ import annotations

import re

import pytest

import litrain
from litrain.checkpoint.store import safe_load

RUN = {
    "trainer.max_epochs": 6,
    "trainer.limit_train_batches": 2,
    "trainer.limit_val_batches": 1,
    "checkpoint.keep_every_n_epochs": 2,
}
TOP_K = re.compile(r"epoch=\d\d-val_acc=\d\.\d{4}\.ckpt")


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_best_last_and_every_second_epoch_are_kept(tmp_path, engine):
    result = litrain.fit(run_dir=tmp_path, quiet=True, overwrite=True, **RUN, **{"run.engine": engine})
    ckpts = tmp_path / "checkpoints"
    names = sorted(p.name for p in ckpts.glob("*.ckpt"))
    best = [n for n in names if TOP_K.fullmatch(n)]
    assert len(best) == 1, names  # save_top_k 1: the best, pruned as usual
    # epochs count from 0 in the names, as in the top-k ones: the 2nd, 4th and 6th epochs
    periodic = ["epoch=01-periodic.ckpt", "epoch=03-periodic.ckpt", "epoch=05-periodic.ckpt"]
    assert sorted(set(names) - set(best)) == sorted([*periodic, "last.ckpt"])
    for name in periodic:
        ckpt = safe_load(ckpts / name)  # checked against its sidecar: the atomic store wrote it
        assert ckpt["epoch"] == int(name[6:8]) and ckpt["global_step"] == 2 * (int(name[6:8]) + 1)
    assert result.summary["best_checkpoint"].endswith(best[0])

    # resume from the 4th epoch's file for a 5-epoch run: one more epoch of 2 steps (from
    # last.ckpt the run would already be done, at 12 steps)
    resumed = litrain.fit(
        run_dir=tmp_path,
        resume=str(ckpts / "epoch=03-periodic.ckpt"),
        quiet=True,
        **{**RUN, "trainer.max_epochs": 5},
        **{"run.engine": engine},
    )
    assert resumed.summary["steps"] == 10 and resumed.summary["epochs"] == 5
