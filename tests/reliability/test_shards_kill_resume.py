"""kill -9 mid-epoch while training from tar shards (2 loader workers, shuffle buffer, seeded
flip augmentation, dropout), then ``--resume last``: the final weights equal the
uninterrupted run's bit for bit, in both engines. The reader's position rides in every
checkpoint through StatefulDataLoader's state (see litrain/data/shards/read.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_same_weights, killrun
from test_kill_resume import _final, _flags

import litrain

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from shard_data import pattern, write_shards  # noqa: E402


def _run(run_dir: Path, overrides: dict, kill_at: str | None, resume: bool) -> int:
    return killrun(run_dir, kill_at, *_flags(overrides), *(["--resume", "last"] if resume else [])).returncode


def _cfg(root: Path, engine: str) -> dict:
    return {
        "run.engine": engine,
        "data.source": "shards",
        "data.train_urls": pattern(root, 3),
        "data.val_urls": str(root / "val-000000.tar"),
        "data.cache_dir": str(root / "cache"),
        "data.batch_size": 8,
        "data.num_workers": 2,
        "data.shuffle_buffer": 10,
        "data.augment": "flip",
        "model.dropout": 0.1,
        "trainer.max_epochs": 2,
        "checkpoint.every_n_steps": 2,
    }


@pytest.mark.slow
# The native engine's shard resume is proven through kill -9 in the 2-rank S3 test
# (tests/distributed/test_shards_s3_ddp_resume.py); one engine here keeps the suite's time down.
@pytest.mark.parametrize("engine", ["lightning"])
def test_kill9_mid_epoch_resumes_bit_identical(tmp_path: Path, engine: str) -> None:
    root = tmp_path / "shards"
    write_shards(root, [25, 17, 21], kind="jpg")  # 63 samples: 7 batches of 8 an epoch
    write_shards(root, [12], kind="jpg", split="val", first_id=100)
    cfg = _cfg(root, engine)
    ref = litrain.fit(run_dir=tmp_path / "ref", quiet=True, **cfg)
    assert ref.summary["steps"] == 14

    run = tmp_path / "killed"
    assert _run(run, cfg, "step:6", resume=False) == -9  # epoch 0, after the checkpoint at step 4
    assert _run(run, cfg, "step:5", resume=True) == -9  # on into epoch 1
    assert _run(run, cfg, None, resume=True) == 0
    a, b = _final(tmp_path / "ref"), _final(run)
    assert b["global_step"] == a["global_step"] == 14
    key = "state_dict" if "state_dict" in a else "model"
    assert_same_weights(a[key], b[key])
    assert not torch.equal(next(iter(a[key].values())), torch.zeros(()))
