"""Where each sample's members lie inside a local tar shard.

Built once per shard with ``tarfile`` (headers only: data is skipped) and cached as JSON
next to the shard cache, so later epochs and runs read members by offset (many per read)
with no per-member header parsing, and a worker can start in the middle of a shard. Samples
follow WebDataset's convention: a member ``dir/000123.jpg`` belongs to sample ``dir/000123``
(the name up to the first dot), extension ``jpg``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from litrain.core.atomic import atomic_write_json

Members = dict[str, tuple[int, int]]  # extension -> (offset, size) in the tar file


@dataclass
class Table:
    keys: list[str]
    members: list[Members]
    broken: str | None = None  # why reading stopped early (a truncated or corrupt tar)
    exts: list[str] = field(default_factory=list)  # extensions of the first sample

    def __len__(self) -> int:
        return len(self.keys)


def _split(name: str) -> tuple[str, str]:
    folder, base = os.path.split(name)
    stem, _, ext = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), ext.lower()


def scan(path: Path) -> Table:
    """The table of ``path``; stops at the first unreadable header (``broken`` says why)."""
    keys: list[str] = []
    members: list[Members] = []
    broken = None
    size = path.stat().st_size
    try:
        with tarfile.open(path, "r:") as tf:
            for m in tf:
                if not m.isfile():
                    continue
                if m.offset_data + m.size > size:
                    broken = f"member {m.name} is cut off at byte {size}"
                    break
                key, ext = _split(m.name)
                if not keys or keys[-1] != key:
                    keys.append(key)
                    members.append({})
                members[-1][ext] = (m.offset_data, m.size)
            end = tf.offset  # a complete tar ends in zero blocks; a cut one just stops
        with open(path, "rb") as f:
            f.seek(end)
            if broken is None and f.read(512) != bytes(512):
                broken = f"it ends at byte {size} without the end-of-archive blocks"
    except (tarfile.TarError, EOFError, OSError) as exc:
        broken = str(exc) or type(exc).__name__
    if broken and keys:  # the last sample may be missing members: drop it
        keys.pop()
        members.pop()
    return Table(keys, members, broken, sorted(members[0]) if members else [])


def _table_file(cache_root: Path, path: Path) -> Path:
    st = path.stat()
    ident = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return cache_root / "tables" / f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}.json"


def load_table(cache_root: Path, path: Path) -> Table:
    """The cached table of ``path`` (keyed by its path, size and mtime), built if missing."""
    where = _table_file(cache_root, path)
    if where.is_file():
        raw = json.loads(where.read_text())
        members = [{ext: (int(o), int(n)) for ext, (o, n) in m.items()} for m in raw["members"]]
        return Table(raw["keys"], members, raw["broken"], raw["exts"])
    table = scan(path)
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        body = {"keys": table.keys, "members": table.members, "broken": table.broken, "exts": table.exts}
        atomic_write_json(where, body, indent=None)
    except OSError:  # a read-only cache only costs the scan again
        pass
    return table
