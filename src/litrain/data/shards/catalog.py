"""A split's shards and what is known about them before reading: sample counts (from the
index the shard writer leaves next to the shards, ``<split>.index.json``, else counted once
from the shards' tables and cached), checksums, the image and label members, the classes."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from litrain.data.shards.cache import ShardCache
from litrain.data.shards.decode import IMAGE_EXTS, LABEL_EXTS
from litrain.data.shards.index import loads
from litrain.data.shards.tables import Table, load_table
from litrain.data.shards.urls import filesystem, is_remote, listed_names, local_path
from litrain.errors import DataError


@dataclass
class ShardSet:
    urls: list[str]
    counts: list[int]
    sha256: list[str | None]
    member: str = "jpg"
    label: str = "cls"
    index: dict[str, Any] | None = None
    key: str = "train_urls"  # the config key the URLs came from (for messages)
    tables: dict[int, Table] = field(default_factory=dict, repr=False)  # the ones read here

    @property
    def total(self) -> int:
        return sum(self.counts)


def _dirname(url: str) -> str:
    return posixpath.dirname(url) if is_remote(url) else str(local_path(url).parent)


def _read_index(url: str, split: str, cache: ShardCache) -> dict[str, Any] | None:
    """The writer's index next to ``url`` (tried: ``<split>.index.json``, then the shard
    name's prefix, e.g. ``train`` for ``train-000000.tar``), or None."""
    names = [f"{split}.index.json", f"{posixpath.basename(url).split('-')[0]}.index.json"]
    for name in dict.fromkeys(names):
        where = posixpath.join(_dirname(url), name) if is_remote(url) else str(local_path(url).parent / name)
        if is_remote(where):
            try:
                with filesystem(where, cache.storage_options).open(where, "rb") as f:
                    text = f.read().decode()
            except FileNotFoundError:
                continue
            except Exception:  # an unreachable store: reading the shard names the problem
                return None
        else:
            try:
                text = local_path(where).read_text()
            except FileNotFoundError:
                continue
        # the writer's format (data.shards.index), checked there; kept as the dict this
        # module reads, with where it came from for the messages
        parsed = loads(text, where)
        index = parsed.to_dict()
        index["_where"] = where
        return index
    return None


def check_table(shards: ShardSet, i: int, table: Table, strict: bool) -> None:
    """The index's count must match the shard; a broken shard is an error unless skipping."""
    url, want = shards.urls[i], shards.counts[i]
    if table.broken and strict:
        raise DataError(
            f"shard {url} is truncated or corrupt after {len(table)} samples ({table.broken}): copy "
            "it again, or set data.on_bad_sample=skip to train without the lost samples"
        )
    if not table.broken and len(table) != want:
        raise DataError(
            f"shard {url} holds {len(table)} samples but the index {shards.index and shards.index['_where']} "
            f"says {want}: the index is stale; write the shards again or delete the index"
        )


def shard_table(shards: ShardSet, i: int, cache: ShardCache, strict: bool) -> Table:
    if i not in shards.tables:
        path = cache.local(shards.urls[i], shards.sha256[i])
        table = load_table(cache.root, path)
        if shards.index is not None or (table.broken and strict):
            check_table(shards, i, table, strict)
        shards.tables[i] = table
    return shards.tables[i]


def _members(first: Table, url: str) -> tuple[str, str]:
    if not first.keys:
        raise DataError(f"shard {url} holds no samples: write it again or leave it out")
    exts = first.exts
    image = next((e for e in IMAGE_EXTS if e in exts), None)
    label = next((e for e in LABEL_EXTS if e in exts), None)
    if image is None:
        raise DataError(
            f"shard {url}: sample {first.keys[0]} has no image member ({', '.join(IMAGE_EXTS)}), "
            f"only {exts}: write the shards with an image per sample"
        )
    if label is None:
        raise DataError(
            f"shard {url}: sample {first.keys[0]} has no label member (.cls class index or .json "
            f"targets), only {exts}: write the shards with labels"
        )
    return image, label


def _exists(url: str, cache: ShardCache) -> bool:
    if not is_remote(url):
        return local_path(url).is_file()
    if cache.cached(url):
        return True
    try:
        return bool(filesystem(url, cache.storage_options).exists(url))
    except Exception:  # cannot tell: the shard's own read will say what is wrong
        return True


def _not_listed(absent: list[str], key: str, index: dict[str, Any], cache: ShardCache) -> None:
    """A URL the index does not list: a wrong name (the usual case: a brace range of another
    width) is not a stale index, and deleting a good index is the wrong advice for it."""
    names = [str(s["name"]) for s in index.get("shards", [])]
    more = f" and {len(absent) - 1} more" if len(absent) > 1 else ""
    if not _exists(absent[0], cache):
        raise DataError(
            f"data.{key} names shards that do not exist ({absent[0]}{more}); the index "
            f"{index['_where']} lists {listed_names(names)}: fix the names or the brace range in data.{key}"
        )
    raise DataError(
        f"the index {index['_where']} does not list shard {absent[0]}{more}, which exists (it lists "
        f"{listed_names(names)}): the index is older than the shards; write the shards again or "
        "delete the index"
    )


def open_shards(urls: list[str], key: str, cache: ShardCache, strict: bool) -> ShardSet:
    """The split's ShardSet: counts from the index when there is one, else from every
    shard's table (fetching remote shards into the cache once)."""
    split = key.removesuffix("_urls")
    index = _read_index(urls[0], split, cache)
    if index is not None:
        listed = {s["name"]: s for s in index.get("shards", [])}
        absent = [u for u in urls if posixpath.basename(u) not in listed]
        if absent:
            _not_listed(absent, key, index, cache)
        entries = [listed[posixpath.basename(u)] for u in urls]
        shards = ShardSet(
            urls,
            [int(e["samples"]) for e in entries],
            [e.get("sha256") for e in entries],
            index=index,
            key=key,
        )
        cache.check_room({u: int(e.get("bytes") or 0) for u, e in zip(urls, entries, strict=True)})
    else:
        remote = [u for u in urls if not cache.cached(u)]
        cache.check_room({u: cache.remote_size(u) for u in remote})
        shards = ShardSet(urls, [0] * len(urls), [None] * len(urls), key=key)
        for i in range(len(urls)):
            shards.counts[i] = len(shard_table(shards, i, cache, strict))
    first = shard_table(shards, 0, cache, strict)
    shards.member, shards.label = _members(first, urls[0])
    if index is not None:
        shards.member = str(index.get("sample_ext") or shards.member)
        shards.label = str(index.get("label_ext") or shards.label)
    return shards
