"""A LitData dir written by ``litrain shard --format litdata`` trains as ``data.train_urls``:
every sample once per epoch (the remainder left out, the same number of full batches on every
rank), the class names and labels of the source, a shuffle that changes with the epoch, a
mid-epoch resume through the loader state, both engines, and one line for a bad path.

Sample ids ride in the pixels: image ``k`` of the tiny image folder is a PNG filled with the
value ``k`` (PNGs are copied byte for byte), read back with ``data.normalize=false``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from litrain.cli import main, run
from litrain.config import DataConfig
from litrain.data.datamodule import DataModule
from litrain.data.shards import read

pytestmark = pytest.mark.slow  # LitData's optimize and reader start their own processes/threads

CLASSES = ("ant", "bee", "cow")
N_TRAIN, N_VAL = 23, 7


def _write_folder(root: Path) -> dict[int, int]:
    """The image folder; returns id -> class index."""
    label_of, k = {}, 0
    for split, n in (("train", N_TRAIN), ("val", N_VAL)):
        for i in range(n):
            c = i % len(CLASSES)
            folder = root / split / CLASSES[c]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((6, 6, 3), k, dtype=np.uint8)).save(folder / f"{k:03d}.png")
            label_of[k] = c
            k += 1
    return label_of


@pytest.fixture(scope="module")
def litdata_dir(tmp_path_factory) -> tuple[Path, dict[int, int]]:
    root = tmp_path_factory.mktemp("ld")
    label_of = _write_folder(root / "photos")
    argv = ["shard", "--format", "litdata", "--dataset", "imagefolder", "--data-dir", str(root / "photos")]
    assert run([*argv, "--output", str(root / "out"), "--shard-size", "5", "--quiet"]) == 0
    return root / "out", label_of


def _dm(out: Path, monkeypatch, rank: int = 0, world: int = 1, **data) -> DataModule:
    monkeypatch.setattr(read, "rank_and_world", lambda: (rank, world))
    cfg = DataConfig(
        source="shards", train_urls=str(out / "train"), val_urls=str(out / "val"), normalize=False, **data
    )
    dm = DataModule(cfg, seed=7)
    dm.setup()
    return dm


def _batches(loader, epoch: int, label_of: dict[int, int]) -> list[list[int]]:
    loader.sampler.set_epoch(epoch)
    out = []
    for x, y in loader:
        ids = [int(v) for v in (x[:, 0, 0, 0] * 255).round().tolist()]
        assert [label_of[i] for i in ids] == y.tolist()  # each label is its image's class
        out.append(ids)
    return out


# 2 ranks x 2 workers: the split the one-rank case is a part of (and the slow part of this file)
@pytest.mark.parametrize("world", [2])
def test_every_sample_once_per_epoch_with_equal_full_batches(litdata_dir, monkeypatch, world):
    out, label_of = litdata_dir
    batch = 3
    orders = []
    for epoch in (0, 1):
        seen: Counter[int] = Counter()
        val_seen: Counter[int] = Counter()
        lengths = set()
        for rank in range(world):
            dm = _dm(out, monkeypatch, rank, world, batch_size=batch, num_workers=2)
            assert dm.info.class_names == list(CLASSES)
            loader = dm.train_dataloader()
            batches = _batches(loader, epoch, label_of)
            assert len(batches) == len(loader) == N_TRAIN // (world * batch)
            assert all(len(b) == batch for b in batches)
            lengths.add(len(batches))
            seen.update(i for b in batches for i in b)
            if rank == 0:
                orders.append([i for b in batches for i in b])
            val_seen.update(i for b in _batches(dm.val_dataloader(), epoch, label_of) for i in b)
        assert len(lengths) == 1  # the same number of batches on every rank
        assert max(seen.values()) == 1 and set(seen) <= set(range(N_TRAIN))
        assert sum(seen.values()) == world * batch * (N_TRAIN // (world * batch))
        assert val_seen == Counter(range(N_TRAIN, N_TRAIN + N_VAL))  # evaluation leaves nothing out
    assert orders[0] != orders[1]  # seeded by seed + epoch: a new order each epoch
    assert (out / "train" / "index.json").is_file() and len(list((out / "train").glob("*.bin"))) == 5


def test_mid_epoch_resume_continues_with_the_unseen_samples(litdata_dir, monkeypatch):
    out, label_of = litdata_dir
    data = {"batch_size": 2, "num_workers": 2}
    whole = _batches(_dm(out, monkeypatch, **data).train_dataloader(), 1, label_of)
    first = _dm(out, monkeypatch, **data).train_dataloader()
    first.sampler.set_epoch(1)
    it = iter(first)
    done = [[int(v) for v in (next(it)[0][:, 0, 0, 0] * 255).round().tolist()] for _ in range(3)]
    state = first.state_dict()
    resumed = _dm(out, monkeypatch, **data).train_dataloader()
    resumed.sampler.set_epoch(1)
    resumed.load_state_dict(state)
    rest = _batches(resumed, 1, label_of)
    assert done + rest == whole


# reading is the DataModule's, the same object in both engines; one engine keeps this file short
@pytest.mark.parametrize("engine", ["native"])
def test_trains_from_a_litdata_dir(litdata_dir, tmp_path, engine):
    out, _ = litdata_dir
    run_dir = tmp_path / "run"
    flags = ["--set", "data.source=shards", "--set", f"data.train_urls={out / 'train'}"]
    flags += [
        "--set",
        f"data.val_urls={out / 'val'}",
        "--set",
        "data.batch_size=4",
        "--set",
        f"run.engine={engine}",
    ]
    assert run(["fit", "--run-dir", str(run_dir), "--epochs", "2", "--quiet", *flags]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["engine"], summary["steps"]) == (engine, 2 * (N_TRAIN // 4))
    assert "val/acc" in summary["metrics"]


def _user_error(capsys, *argv: str) -> str:
    """The one ``litrain: error`` line of a run that exits 2."""
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--quiet", "--set", "data.source=shards", *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("litrain: error")]
    assert len(lines) == 1, err
    return lines[0]


def test_a_directory_that_is_not_a_litdata_dir_is_one_line(tmp_path, capsys):
    bad = tmp_path / "empty"
    bad.mkdir()
    line = _user_error(capsys, "--set", f"data.train_urls={bad}")
    assert "not a LitData dir" in line and str(bad) in line


def test_a_litdata_dir_on_s3_is_one_line_saying_local_only(litdata_dir, s3_server, capsys):
    import boto3

    out, _ = litdata_dir
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lens")
    for path in (out / "train").iterdir():
        s3.upload_file(str(path), "lens", f"ld/train/{path.name}")
    line = _user_error(capsys, "--set", "data.train_urls=s3://lens/ld/train")
    assert "remote LitData dir" in line and "local disk" in line
