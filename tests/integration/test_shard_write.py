"""``litrain shard`` to a local directory: the tar members and their bytes, labels, sample
counts, index checksums, shard cutting by count and by size, and idempotent reruns."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import Dataset

from fakedata import write_image_tree, write_mnist
from litrain.cli import main
from litrain.data.base import DataInfo, SourceData


def _run(argv: list[str], capsys=None) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    return capsys.readouterr().out if capsys else ""


def _members(shard: Path) -> dict[str, bytes]:
    with tarfile.open(shard) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def _all_members(out: Path, split: str) -> dict[str, bytes]:
    index = json.loads((out / f"{split}.index.json").read_text())
    found: dict[str, bytes] = {}
    for entry in index["shards"]:
        members = _members(out / entry["name"])
        assert len(members) == 2 * entry["samples"]
        found.update(members)
    return found


def _jpg_tree(root: Path, per_class: int = 5, size: int = 12) -> list[tuple[Path, int]]:
    """JPEG files as find_image_tree orders them (sorted classes, sorted files)."""
    rng = np.random.default_rng(0)
    items = []
    for label, name in enumerate(("ant", "bee")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            path = root / name / f"{i:02d}.jpg"
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path, quality=80)
            items.append((path, label))
    return items


def test_imagefolder_jpgs_are_copied_byte_for_byte(tmp_path: Path) -> None:
    train = _jpg_tree(tmp_path / "photos" / "train")
    val = _jpg_tree(tmp_path / "photos" / "val", per_class=2)
    out = tmp_path / "shards"
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            str(tmp_path / "photos"),
            "--output",
            str(out),
            "--shard-size",
            "4",
        ]
    )
    for split, items in (("train", train), ("val", val)):
        index = json.loads((out / f"{split}.index.json").read_text())
        assert index["format"] == "litrain-shards" and index["version"] == 1
        assert (index["split"], index["sample_ext"], index["label_ext"]) == (split, "jpg", "cls")
        assert index["class_names"] == ["ant", "bee"] and index["image_size"] == [3, 12, 12]
        assert index["total_samples"] == len(items) == sum(s["samples"] for s in index["shards"])
        for entry in index["shards"]:
            data = (out / entry["name"]).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"])
        members = _all_members(out, split)
        for i, (path, label) in enumerate(items):
            assert members[f"{i:06d}.jpg"] == path.read_bytes()
            assert members[f"{i:06d}.cls"] == str(label).encode()
    assert sorted(p.name for p in out.iterdir()) == [
        "train-000000.tar", "train-000001.tar", "train-000002.tar", "train.index.json",
        "val-000000.tar", "val.index.json",
    ]  # fmt: skip


def test_mnist_pixels_round_trip_through_png(tmp_path: Path) -> None:
    written = write_mnist(tmp_path, n_train=30, n_test=10)
    out = tmp_path / "shards"
    _run(
        [
            "shard",
            "--dataset",
            "mnist",
            "--data-dir",
            str(tmp_path),
            "--output",
            str(out),
            "--shard-size",
            "16",
        ]
    )
    for split in ("train", "test"):
        images, labels = written[split]
        members = _all_members(out, split)
        assert len(members) == 2 * len(images)
        for i in range(len(images)):
            decoded = np.asarray(Image.open(io.BytesIO(members[f"{i:06d}.png"])))
            np.testing.assert_array_equal(decoded, images[i])
            assert int(members[f"{i:06d}.cls"]) == labels[i]


def test_float_arrays_round_trip_through_npy_with_json_targets(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 2, 5)).astype(np.float32)
    y = (rng.random((9, 3)) > 0.5).astype(np.int64)  # multilabel 0/1 targets
    np.savez(tmp_path / "data.npz", x=x, y=y)
    out = tmp_path / "shards"
    _run(["shard", "--dataset", "arrays", "--data-dir", str(tmp_path / "data.npz"), "--output", str(out)])
    index = json.loads((out / "train.index.json").read_text())
    assert (index["sample_ext"], index["label_ext"], index["image_size"]) == ("npy", "json", None)
    members = _all_members(out, "train")
    for i in range(9):
        np.testing.assert_array_equal(np.load(io.BytesIO(members[f"{i:06d}.npy"])), x[i])
        assert json.loads(members[f"{i:06d}.json"]) == y[i].tolist()


def test_image_size_reencodes_at_the_quality_asked(tmp_path: Path) -> None:
    items = _jpg_tree(tmp_path / "photos", per_class=3, size=20)
    out = tmp_path / "shards"
    flags = ["--image-size", "8", "--quality", "90"]
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            str(tmp_path / "photos"),
            "--output",
            str(out),
            *flags,
        ]
    )
    index = json.loads((out / "train.index.json").read_text())
    assert (index["sample_ext"], index["image_size"]) == ("jpg", [3, 8, 8])
    members = _all_members(out, "train")
    for i, (path, _) in enumerate(items):
        img = Image.open(io.BytesIO(members[f"{i:06d}.jpg"]))
        assert (img.format, img.size) == ("JPEG", (8, 8))
        source = np.asarray(Image.open(path).resize((8, 8), Image.BILINEAR), dtype=np.float32)
        assert np.abs(np.asarray(img, dtype=np.float32) - source).mean() < 12  # JPEG q90 of the resize


def test_shard_size_and_max_shard_bytes_cut_shards(tmp_path: Path) -> None:
    write_image_tree(tmp_path / "photos", per_class=4)  # 12 PNGs of ~400 bytes
    by_count, by_bytes = tmp_path / "count", tmp_path / "bytes"
    photos = str(tmp_path / "photos")
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            photos,
            "--output",
            str(by_count),
            "--shard-size",
            "5",
        ]
    )
    count = json.loads((by_count / "train.index.json").read_text())
    assert [s["samples"] for s in count["shards"]] == [5, 5, 2]
    limit = 12000
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            photos,
            "--output",
            str(by_bytes),
            "--max-shard-bytes",
            str(limit),
        ]
    )
    size = json.loads((by_bytes / "train.index.json").read_text())
    assert len(size["shards"]) > 1 and size["total_samples"] == 12
    assert all((by_bytes / s["name"]).stat().st_size <= limit for s in size["shards"])
    # the same samples in the same order, however they are cut
    assert _all_members(by_bytes, "train") == _all_members(by_count, "train")


def test_rerun_keeps_complete_shards_and_rewrites_a_damaged_one(tmp_path: Path, capsys) -> None:
    write_image_tree(tmp_path / "photos", per_class=4)
    out = tmp_path / "shards"
    argv = [
        "shard",
        "--dataset",
        "imagefolder",
        "--data-dir",
        str(tmp_path / "photos"),
        "--output",
        str(out),
        "--shard-size",
        "5",
    ]
    _run(argv, capsys)
    first = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    assert "0 written, 3 kept" in _run(argv, capsys)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()} == first

    damaged = out / "train-000001.tar"
    damaged.write_bytes(damaged.read_bytes()[:3000])
    assert "2 written, 1 kept" in _run(argv, capsys)  # the damaged one and every one after it
    assert (out / "train-000000.tar").stat().st_mtime_ns == first["train-000000.tar"][0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {k: v[1] for k, v in first.items()}


def test_encoding_workers_write_the_same_bytes(tmp_path: Path) -> None:
    write_mnist(tmp_path, n_train=40, n_test=8)
    outs = [tmp_path / "w0", tmp_path / "w2"]
    for out, workers in zip(outs, ("0", "2"), strict=True):
        _run(
            [
                "shard",
                "--dataset",
                "mnist",
                "--data-dir",
                str(tmp_path),
                "--output",
                str(out),
                "--shard-size",
                "16",
                "--workers",
                workers,
            ]
        )
    assert {p.name: p.read_bytes() for p in outs[0].iterdir()} == {
        p.name: p.read_bytes() for p in outs[1].iterdir()
    }


def test_shards_served_over_http_match_their_index(tmp_path: Path, http_server) -> None:
    write_image_tree(tmp_path / "photos", per_class=2)
    out = tmp_path / "shards"
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            str(tmp_path / "photos"),
            "--output",
            str(out),
            "--shard-size",
            "4",
        ]
    )
    shutil.copytree(out, http_server.root / "shards")
    with urllib.request.urlopen(f"{http_server.url}/shards/train.index.json") as r:
        index = json.loads(r.read())
    for entry in index["shards"]:
        with urllib.request.urlopen(f"{http_server.url}/shards/{entry['name']}") as r:
            assert hashlib.sha256(r.read()).hexdigest() == entry["sha256"]


class _Clips(Dataset):
    """Video-like samples, (T, C, H, W) floats, with multi-task targets packed per
    DataInfo.head_columns: a 3-class label and a 2-column box."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand((5, 4, 3, 6, 6), generator=g)
        self.y = torch.tensor([[i % 3, 0.25 * i, -0.5 * i] for i in range(5)], dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


def _clips_source(cfg) -> SourceData:
    info = DataInfo(
        (4, 3, 6, 6), 3, head_columns={"kind": 1, "box": 2}, head_classes={"kind": 3}, float_targets=True
    )
    return SourceData(train=_Clips(), info=info)


def test_any_dataset_source_clips_and_multitask_targets(tmp_path: Path) -> None:
    import litrain
    from litrain.registry import DATASETS

    DATASETS.register("clips", _clips_source)
    try:
        results = litrain.shard(data__source="clips", output=tmp_path / "out", shard_size=2)
    finally:
        DATASETS.unregister("clips")
    assert [s.samples for s in results["train"].index.shards] == [2, 2, 1]
    assert (results["train"].index.sample_ext, results["train"].index.label_ext) == ("npy", "json")
    members = _all_members(tmp_path / "out", "train")
    clips = _Clips()
    for i in range(5):
        np.testing.assert_array_equal(np.load(io.BytesIO(members[f"{i:06d}.npy"])), clips.x[i].numpy())
        assert json.loads(members[f"{i:06d}.json"]) == {"kind": i % 3, "box": [0.25 * i, -0.5 * i]}
