"""What ``litrain shard`` writes, ``data.source: shards`` reads: the writer's index gives the
reader its counts and class names, and training sees every full batch of the data set."""

from __future__ import annotations

import json

from litrain.cli import run


def test_shards_written_by_litrain_shard_train_with_the_index_counts(tmp_path):
    out = tmp_path / "shards"
    assert run(["shard", "--dataset", "digits", "--output", str(out), "--shard-size", "500", "--quiet"]) == 0
    index = json.loads((out / "train.index.json").read_text())
    assert [s["samples"] for s in index["shards"]] == [500, 500, 500, 297]  # digits: 1,797

    urls = str(out / "train-{000000..000003}.tar")
    run_dir = tmp_path / "run"
    flags = ["--set", "data.source=shards", "--set", f"data.train_urls={urls}", "--set", "data.batch_size=64"]
    assert run(["fit", "--run-dir", str(run_dir), "--epochs", "1", "--quiet", *flags]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 1797 // 64  # 28 full batches; the 5-sample tail is left out
    config = (run_dir / "config.yaml").read_text()
    assert "source: shards" in config
