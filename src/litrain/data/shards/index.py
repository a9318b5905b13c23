"""The per-split shard index, ``<split>.index.json``, written beside the shards.

It is what makes a shard set checkable without opening a tar: the reader learns the epoch
length up front, and a rerun of ``litrain shard`` knows which shards are complete. Format
(version 1)::

    {
      "format": "litrain-shards", "version": 1,
      "split": "train",
      "layout": "webdataset",           # or "litdata" (LitData's optimized chunks)
      "fingerprint": "<sha256>",       # the source samples + writing options
      "sample_ext": "jpg",              # member extension: jpg | png | webp | npy
      "label_ext": "cls",               # cls (class index as text) | json (targets)
      "class_names": ["cat", "dog"],
      "image_size": [3, 64, 64],        # (C, H, W) when every sample has it, else null
      "total_samples": 250,
      "shards": [
        {"name": "train-000000.tar", "samples": 100, "bytes": 1239040, "sha256": "..."}
      ]
    }

The file is replaced atomically and written after every shard it lists, so an index never
names a shard that is missing or torn. While a split is being written, a progress record
``<split>.progress.json`` (the same format, shards written so far) lets a rerun keep them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from litrain.core.atomic import atomic_write_bytes
from litrain.errors import DataError

FORMAT = "litrain-shards"
VERSION = 1
SAMPLE_EXTS = ("jpg", "png", "webp", "npy")
LABEL_EXTS = ("cls", "json")
LAYOUTS = ("webdataset", "litdata")


def index_name(split: str) -> str:
    return f"{split}.index.json"


def progress_name(split: str) -> str:
    return f"{split}.progress.json"


@dataclass
class ShardEntry:
    name: str
    samples: int
    bytes: int
    sha256: str


@dataclass
class ShardIndex:
    split: str
    sample_ext: str
    label_ext: str
    fingerprint: str = ""
    layout: str = "webdataset"
    class_names: list[str] = field(default_factory=list)
    image_size: list[int] | None = None
    shards: list[ShardEntry] = field(default_factory=list)

    @property
    def total_samples(self) -> int:
        return sum(s.samples for s in self.shards)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        shards = d.pop("shards")
        return {
            "format": FORMAT,
            "version": VERSION,
            **d,
            "total_samples": self.total_samples,
            "shards": shards,
        }

    @classmethod
    def from_dict(cls, d: Any, where: str) -> ShardIndex:
        """Validate a parsed index; ``where`` names the file in errors."""
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise DataError(f'{where} is not a litrain shard index (no "format": "{FORMAT}")')
        if d.get("version") != VERSION:
            raise DataError(f"{where} has index version {d.get('version')}; this litrain reads {VERSION}")
        try:
            shards = [ShardEntry(**s) for s in d["shards"]]
            idx = cls(
                split=str(d["split"]),
                sample_ext=str(d["sample_ext"]),
                label_ext=str(d["label_ext"]),
                fingerprint=str(d.get("fingerprint", "")),
                layout=str(d.get("layout", "webdataset")),
                class_names=[str(c) for c in d.get("class_names", [])],
                image_size=d.get("image_size"),
                shards=shards,
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"{where} is missing or has a malformed field ({exc}): rewrite it") from None
        if idx.sample_ext not in SAMPLE_EXTS or idx.label_ext not in LABEL_EXTS or idx.layout not in LAYOUTS:
            raise DataError(
                f"{where}: sample_ext {idx.sample_ext!r}, label_ext {idx.label_ext!r} or layout "
                f"{idx.layout!r} unknown (expected {SAMPLE_EXTS}, {LABEL_EXTS}, {LAYOUTS})"
            )
        if "total_samples" in d and d["total_samples"] != idx.total_samples:
            raise DataError(
                f"{where}: total_samples {d['total_samples']} differs from the sum over its shards "
                f"({idx.total_samples})"
            )
        return idx


def dumps(index: ShardIndex) -> bytes:
    return (json.dumps(index.to_dict(), indent=1) + "\n").encode()


def loads(data: bytes | str, where: str) -> ShardIndex:
    try:
        parsed = json.loads(data)
    except ValueError as exc:
        raise DataError(f"{where} is not valid JSON ({exc}): delete it and write the shards again") from None
    return ShardIndex.from_dict(parsed, where)


def write_index(path: Path, index: ShardIndex) -> None:
    atomic_write_bytes(path, dumps(index))  # a reader sees the old index or the new one


def read_index(path: Path) -> ShardIndex:
    if not path.is_file():
        raise DataError(f"no shard index at {path}: write the shards with `litrain shard`")
    return loads(path.read_bytes(), str(path))


def read_index_if_any(path: Path) -> ShardIndex | None:
    return read_index(path) if path.is_file() else None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verified(path: Path, entry: ShardEntry) -> bool:
    return path.is_file() and path.stat().st_size == entry.bytes and file_sha256(path) == entry.sha256


def previous_shards(out: Path, split: str, fingerprint: str, layout: str) -> tuple[list[ShardEntry], bool]:
    """(the recorded shards that still verify, in order; whether the split is complete).
    A record of other samples or options is an error, not something to overwrite."""
    for path in (out / index_name(split), out / progress_name(split)):
        prev = read_index_if_any(path)
        if prev is None:
            continue
        if prev.fingerprint != fingerprint or prev.layout != layout:
            raise DataError(
                f"{out} already holds {split} shards of another data set or written with other "
                f"options ({path.name} differs): choose an empty --output, or delete {out}"
            )
        kept: list[ShardEntry] = []
        for entry in prev.shards:
            if not verified(out / entry.name, entry):
                break  # shards are cut in order: everything from here is rewritten
            kept.append(entry)
        return kept, path.name == index_name(split) and len(kept) == len(prev.shards)
    if any(out.glob(f"{split}-*.tar")) or (out / split).is_dir():
        raise DataError(
            f"{out} holds {split} shards without a litrain index ({index_name(split)}): choose "
            f"an empty --output, or delete them"
        )
    return [], False
