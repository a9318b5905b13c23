"""Two processes (gloo, CPU) training from tar shards with 2 loader workers each: both ranks
run the same number of full batches although 5 uneven shards do not divide among 2 ranks x
2 workers, no sample is trained on twice in an epoch, and the left-out remainder is exactly
``N mod (world * batch)``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from dist_helpers import BASE, LITRAIN, run, summary

sys.path.insert(0, str(Path(__file__).parents[1]))
from shard_data import pattern, write_shards

HERE = str(Path(__file__).parent)


def test_two_ranks_get_equal_batches_and_disjoint_samples(tmp_path):
    counts = [7, 5, 9, 3, 11]  # 35 samples; batch 4 on 2 ranks: 4 batches each, 3 left out
    write_shards(tmp_path / "shards", counts)
    ids = tmp_path / "ids"
    record = f"trainer.callbacks=[{{class_path: shard_ids_callback.RecordIds, init_args: {{out: {ids}}}}}]"
    args = [*BASE, "--devices", "2", "--run-dir", str(tmp_path / "run"), "--model", "mlp"]
    data = ["--dataset", "shards", "--data.train_urls", pattern(tmp_path / "shards", 5), "--num-workers", "2"]
    data += ["--batch-size", "4", "--data.normalize", "false", "--data.cache_dir", str(tmp_path / "cache")]
    path = os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH", "")) if p)
    run([*LITRAIN, *args, *data, "--set", record], tmp_path, extra_env={"PYTHONPATH": path})

    per_rank = [json.loads(p.read_text()) for p in sorted(ids.glob("rank*.json"))]
    assert len(per_rank) == 2
    assert [len(b) for b in per_rank] == [4, 4]
    assert all(len(batch) == 4 for batches in per_rank for batch in batches)
    seen = [i for batches in per_rank for batch in batches for i in batch]
    assert len(seen) == len(set(seen)) == 32
    assert set(seen) <= set(range(sum(counts)))
    assert summary(tmp_path / "run")["steps"] == 4
