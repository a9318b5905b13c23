"""A split in LitData's optimized format (``<output>/<split>/`` chunks + LitData's
``index.json``), written by LitData's own ``optimize``; litrain's ``<split>.index.json``
beside it lists the chunk files with their checksums, for reruns and uploads.

Each item is ``{"index": i, <sample_ext>: encoded bytes, "cls": class index}`` (or
``"json": targets as a JSON string``): the same bytes as the tar shards' members."""

from __future__ import annotations

import json
import multiprocessing
import shutil
from pathlib import Path
from typing import Any

from litrain.data.shards.encode import SplitEncoder
from litrain.data.shards.index import (
    ShardEntry,
    ShardIndex,
    file_sha256,
    index_name,
    previous_shards,
    progress_name,
    write_index,
)
from litrain.data.shards.remote import require
from litrain.data.shards.write_options import ShardOptions, SplitResult


class _Item:
    """The function LitData maps over sample indices (a class: it is pickled to workers)."""

    def __init__(self, enc: SplitEncoder, width: int) -> None:
        self.enc, self.width = enc, width

    def __call__(self, i: int) -> dict[str, Any]:
        sample = self.enc.encode(i, self.width)
        label = sample[self.enc.label_ext]
        target: Any = int(label) if self.enc.label_ext == "cls" else label.decode()
        return {"index": i, self.enc.sample_ext: sample[self.enc.sample_ext], self.enc.label_ext: target}


def write_litdata_split(
    out: Path, split: str, enc: SplitEncoder, index: ShardIndex, opts: ShardOptions
) -> SplitResult:

    litdata = require("litdata")
    kept, complete = previous_shards(out, split, index.fingerprint, "litdata")
    if complete:
        index.shards = kept
        return SplitResult(index, [])
    # LitData writes a split in one go: anything short of a complete index is redone.
    write_index(out / progress_name(split), index)
    (out / index_name(split)).unlink(missing_ok=True)  # an index never names a chunk being redone
    target = out / split
    shutil.rmtree(target, ignore_errors=True)
    size_kw = {"chunk_size": opts.shard_size} if opts.shard_size else {"chunk_bytes": opts.max_shard_bytes}
    # optimize() sets the process-wide multiprocessing start method to spawn (force=True):
    # put the caller's back, or every later DataLoader worker of this process (a litrain.fit
    # after litrain.shard) would start by spawn, re-importing torch each time.
    start_method = multiprocessing.get_start_method(allow_none=True)
    try:
        litdata.optimize(
            fn=_Item(enc, max(6, len(str(len(enc) - 1)))),
            inputs=list(range(len(enc))),
            output_dir=str(target),
            num_workers=max(1, opts.workers),
            reorder_files=False,
            verbose=False,
            **size_kw,
        )
    finally:
        multiprocessing.set_start_method(start_method, force=True)
    chunks = json.loads((target / "index.json").read_text())["chunks"]
    index.shards = [
        ShardEntry(
            f"{split}/{c['filename']}",
            int(c["chunk_size"]),
            (target / c["filename"]).stat().st_size,
            file_sha256(target / c["filename"]),
        )
        for c in chunks
    ]
    write_index(out / index_name(split), index)
    (out / progress_name(split)).unlink(missing_ok=True)
    return SplitResult(index, [s.name for s in index.shards])
