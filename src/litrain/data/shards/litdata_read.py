"""A LitData optimized dir as ``data.train_urls`` / ``val_urls`` / ``test_urls``: the dir
``litrain shard --format litdata`` writes per split (``<output>/<split>/``, LitData's
``index.json`` with its ``chunks`` and ``config``), or any LitData dir whose items hold an
image (``jpg|jpeg|png|webp|npy`` bytes) and a ``cls`` or ``json`` label. Local dirs only: for
an ``s3://`` LitData dir, LitData's chunk downloader (obstore) cannot be pointed at an
``http://`` endpoint (MinIO, moto), so a remote LitData dir is one clear error.

Read with ``litdata.StreamingDataset`` under the tar reader's contract (it subclasses
``ShardDataset`` for decoding, normalization, augmentation, batching, the loader state and
the epoch length): training uses LitData's own shuffle (seeded by ``run.seed``, epoch
``e`` is LitData's ``e + 1``) and rank/worker split with ``drop_last``, so every rank runs
``N // (W * B)`` full batches; evaluation reads this rank's contiguous block by index,
nothing left out. Mid-epoch resume: each worker's (epoch, samples consumed) rides in the
loader state; a resumed worker re-reads LitData's (deterministic) order up to that point
without decoding it and continues with the next unseen sample.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from torch.utils.data import get_worker_info

from litrain.data.shards import partition
from litrain.data.shards.cache import ShardCache
from litrain.data.shards.catalog import ShardSet, _read_index
from litrain.data.shards.decode import IMAGE_EXTS, LABEL_EXTS
from litrain.data.shards.read import ReadSpec, ShardDataset
from litrain.data.shards.remote import require
from litrain.data.shards.urls import _first_line, filesystem, is_remote, local_path
from litrain.errors import DataError

INDEX = "index.json"


def _load_index(url: str, storage_options: dict[str, Any]) -> dict[str, Any] | None:
    where = f"{url.rstrip('/')}/{INDEX}"
    try:
        if is_remote(url):
            with filesystem(where, storage_options).open(where, "rb") as f:
                text = f.read().decode()
        else:
            text = local_path(where).read_text()
        parsed = json.loads(text)
    except DataError:
        raise
    except Exception:  # missing, not JSON, or an unreachable store (the tar reader names it)
        return None
    return parsed if isinstance(parsed, dict) and {"chunks", "config"} <= set(parsed) else None


def litdata_dir(urls: list[str] | str | None, key: str, storage_options: dict[str, Any]) -> str | None:
    """The LitData dir ``data.<key>`` names (one path or URL, no brace pattern), or None."""
    one = urls[0] if isinstance(urls, list) and len(urls) == 1 else urls
    if not isinstance(one, str) or "{" in one or one.endswith(".tar"):
        return None
    if _load_index(one, storage_options) is not None:
        if is_remote(one):
            raise DataError(
                f"data.{key}={one!r} is a remote LitData dir: litrain reads LitData dirs from local disk "
                "only (LitData's chunk downloader cannot be pointed at an http:// S3 endpoint such as "
                "MinIO's): copy the dir to local disk (aws s3 sync), or write tar shards with "
                "litrain shard --output s3://..."
            )
        return one
    if not is_remote(one) and local_path(one).is_dir():
        raise DataError(
            f"data.{key}={one!r} is a directory but not a LitData dir (no {INDEX} with LitData's "
            "chunks and config): name tar shards (e.g. 'shards/train-{000000..000009}.tar') or a dir "
            "written by litrain shard --format litdata (e.g. 'litdata/train')"
        )
    return None


class LitDataSet(ShardSet):
    """A split in LitData's format: ``urls`` is [the local dir], ``counts`` [its items]."""


def _streaming(shards: LitDataSet, train: bool, seed: int) -> Any:
    litdata = require("litdata")
    try:
        return litdata.StreamingDataset(shards.urls[0], shuffle=train, drop_last=train, seed=seed)
    except Exception as exc:
        raise DataError(f"cannot open the LitData dir {shards.urls[0]}: {_first_line(exc)}") from None


def open_litdata(url: str, key: str, cache: ShardCache) -> LitDataSet:
    """The split's counts, members and classes, from LitData's index and litrain's
    ``<split>.index.json`` beside the dir when there is one (else from the first item)."""
    ld_index = _load_index(url, {}) or {}
    total = sum(int(c["chunk_size"]) for c in ld_index.get("chunks", []))
    if total == 0:
        raise DataError(f"the LitData dir {url} holds no items: write it again")
    ours = _read_index(url, key.removesuffix("_urls"), cache)
    if ours is not None and ours.get("layout") != "litdata":
        ours = None  # the tar shards' index of the same split, not this dir's
    if ours is not None and int(ours.get("total_samples", total)) != total:
        raise DataError(
            f"the index {ours['_where']} says {ours['total_samples']} samples but the LitData dir {url} "
            f"holds {total}: the index is stale; write the dir again or delete the index"
        )
    shards = LitDataSet([url], [total], [None], index=ours, key=key)
    if ours is not None:
        shards.member, shards.label = str(ours["sample_ext"]), str(ours["label_ext"])
        return shards
    first = _streaming(shards, False, 0)[0]
    keys = sorted(first) if isinstance(first, dict) else []
    image = next((e for e in IMAGE_EXTS if e in keys), None)
    label = next((e for e in LABEL_EXTS if e in keys), None)
    if image is None or label is None:
        raise DataError(
            f"the LitData dir {url}: items hold {keys}, not an image ({', '.join(IMAGE_EXTS)}) and a "
            "label (cls or json): write it with litrain shard --format litdata"
        )
    shards.member, shards.label = image, label
    return shards


def litdata_classes(shards: LitDataSet) -> list[str]:
    """Class names without litrain's index: 0..the largest label over every item."""
    ds = _streaming(shards, False, 0)
    top = max(int(ds[i][shards.label]) for i in range(shards.total))
    return [str(i) for i in range(top + 1)]


def _rest(it: Any) -> Iterator[Any]:
    """What is left of ``it`` (``yield from`` would call ``iter`` on it again)."""
    while True:
        try:
            yield next(it)
        except StopIteration:
            return


class LitDataDataset(ShardDataset):
    """``ShardDataset``'s batches and state over a LitData dir (see the module docstring)."""

    shards: LitDataSet

    def __init__(self, shards: LitDataSet, spec: ReadSpec, cache: ShardCache) -> None:
        super().__init__(shards, spec, cache)
        self._ld: Any = None

    def _raw_item(self, item: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        raw: dict[str, Any] = {k: item[k] for k in (self.shards.member,) if k in item}
        if self.shards.label in item:  # .cls / .json as the tar reader reads them: text bytes
            raw[self.shards.label] = str(item[self.shards.label]).encode()
        return self.shards.urls[0], f"#{item.get('index', '?')}", raw

    def head(self, n: int) -> Iterator[tuple[str, str, dict[str, Any]]]:
        ds = _streaming(self.shards, False, 0)
        for i in range(min(n, self.shards.total)):
            yield self._raw_item(ds[i])

    def _items(self, skip: int) -> tuple[Iterator[dict[str, Any]], int]:
        """This worker's items from ``skip`` on, and how many it reads in the epoch."""
        from litdata.utilities.env import _DistributedEnv

        rank, world = self._read_ranks()
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        self._base = (rank * workers + worker) * self.shards.total  # augment seeds
        if self._ld is None:
            self._ld = _streaming(self.shards, self.spec.train, self.seed)
        ds = self._ld
        if not self.spec.train:
            span = partition.rank_span(self.shards.total, rank, world, self.spec.batch_size, False)
            lo, hi = partition.worker_span(span, worker, workers, self.spec.batch_size)
            return (ds[i] for i in range(lo + skip, hi)), hi - lo
        # LitData's split of the epoch over ranks x workers, in whole batches (drop_last);
        # its epochs count from 1
        ds.distributed_env = _DistributedEnv(world, rank, 1)
        ds.seed, ds.batch_size = self.seed, self.spec.batch_size
        ds.set_epoch(self.epoch + 1)
        it = iter(ds)  # StreamingDataset.__iter__ restarts the epoch: called once here
        for _ in range(skip):  # read, not decoded: LitData's order is fixed by seed and epoch
            next(it)
        return _rest(it), int(ds.stop_length)

    def __iter__(self) -> Iterator[Any]:
        skip = 0
        if self._resume is not None:
            if self._resume.get("epoch") == self.epoch:
                skip = int(self._resume["consumed"])
            self._resume = None
        items, n = self._items(skip)
        self._consumed = skip
        bs = self.spec.batch_size
        xs: list[Any] = []
        ys: list[Any] = []
        ps: list[int] = []
        for item in items:
            sample = self._sample(*self._raw_item(item))
            if sample is not None:
                xs.append(sample[0])
                ys.append(sample[1])
                ps.append(self._consumed)
            self._consumed += 1
            if self._consumed % bs == 0 or self._consumed == n:
                if xs:
                    yield self._collate(xs, ys, ps)
                xs, ys, ps = [], [], []
