"""``litrain shard --format litdata``: LitData's own StreamingDataset reads back the same
samples (the source files' bytes) and labels, and litrain's index lists the chunks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from litrain.cli import main


def _run(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    return capsys.readouterr().out


@pytest.mark.slow  # LitData's optimize starts its own worker processes
def test_litdata_format_reads_back_with_streaming_dataset(tmp_path: Path, capsys) -> None:
    import litdata

    rng = np.random.default_rng(0)
    files = []
    for label, name in enumerate(("ant", "bee")):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(3):
            path = tmp_path / "photos" / name / f"{i}.jpg"
            Image.fromarray(rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)).save(path)
            files.append((path, label))
    out = tmp_path / "ld"
    argv = [
        "shard",
        "--format",
        "litdata",
        "--dataset",
        "imagefolder",
        "--data-dir",
        str(tmp_path / "photos"),
    ]
    argv += ["--output", str(out), "--shard-size", "4"]
    _run(argv, capsys)

    ds = litdata.StreamingDataset(str(out / "train"))
    items = [ds[i] for i in range(len(ds))]
    assert len(items) == len(files)
    for item, (path, label) in zip(sorted(items, key=lambda it: it["index"]), files, strict=True):
        assert bytes(item["jpg"]) == path.read_bytes()
        assert item["cls"] == label

    index = json.loads((out / "train.index.json").read_text())
    assert (index["layout"], index["total_samples"]) == ("litdata", 6)
    assert [s["samples"] for s in index["shards"]] == [4, 2]
    for entry in index["shards"]:
        assert hashlib.sha256((out / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    assert "0 written, 2 kept" in _run(argv, capsys)  # a rerun leaves the chunks alone
