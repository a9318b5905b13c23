"""``litrain shard``: a litrain source's train/val/test splits as WebDataset tar shards
``<split>-000000.tar`` (members ``NNNNNN.<ext>`` + ``NNNNNN.cls|json``), or as LitData's
optimized chunks, with one ``<split>.index.json`` per split (see :mod:`.index`).

Crash safety and reruns: a shard is written as ``<name>.tmp`` and renamed once complete and
fsynced, then recorded in ``<split>.progress.json``; the index is written last. A rerun keeps
every recorded shard whose SHA-256 still matches, rewrites the rest, and writes nothing when
the index already describes the same samples written with the same options.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from litrain.config import DataConfig
from litrain.core.atomic import atomic_open
from litrain.data.base import DataInfo, Split, split_len
from litrain.data.files import ImageFiles
from litrain.data.shards.encode import SplitEncoder, choose_encoding, label_ext_for
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
from litrain.errors import ConfigError, DataError

_TAR_BLOCK, _TAR_RECORD = 512, 10240  # tar header/padding unit; tarfile pads archives to records


def source_splits(cfg: DataConfig) -> tuple[dict[str, Split], DataInfo]:
    """The source's own splits as it reads them, before any normalization: what a fit
    would train, validate and test on (a source without val/test writes train only)."""
    from litrain.data.transforms import resize_images
    from litrain.registry import DATASETS

    src = DATASETS.get(cfg.source)(cfg)
    splits: dict[str, Split] = {}
    for name in ("train", "val", "test"):
        split = getattr(src, name)
        if split is None:
            continue
        if cfg.image_size and src.info.is_image and isinstance(split, tuple):
            split = (resize_images(split[0], cfg.image_size), split[1])
        if split_len(split) == 0:
            raise DataError(f"data.source={cfg.source}: the {name} split holds no samples; nothing to shard")
        splits[name] = split
    return splits, src.info


def _fingerprint(cfg: DataConfig, enc: SplitEncoder, opts: ShardOptions) -> str:
    """What the shards hold and how they were cut: equal for a rerun of the same command,
    different for another data set or other options."""
    h = hashlib.sha256()
    meta = {
        "source": cfg.source,
        "image_size": cfg.image_size,
        "ext": [enc.sample_ext, enc.label_ext],
        "copy": enc.copy_files,
        "quality": None if enc.copy_files else opts.quality,
        "cut": [opts.shard_size, opts.max_shard_bytes],
        "format": opts.format,
        "classes": enc.info.class_names,
        "n": len(enc),
    }
    h.update(json.dumps(meta, sort_keys=True).encode())
    split = enc.split
    if isinstance(split, ImageFiles):
        root = Path(cfg.root or ".").expanduser().resolve()
        for path, label in split.items:
            p = Path(path).resolve()
            rel = p.relative_to(root) if p.is_relative_to(root) else p
            h.update(f"{rel}\0{p.stat().st_size}\0{label}\n".encode())
    elif isinstance(split, tuple):
        for t in split:
            h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()


def _member_bytes(sample: dict[str, Any]) -> int:
    """Bytes the sample adds to a tar: each member's header as tarfile encodes it (the
    writer's defaults: pax format, fixed mtime) plus its data padded to 512-byte blocks."""
    total = 0
    for k, v in sample.items():
        if k == "__key__":
            continue
        info = tarfile.TarInfo(f"{sample['__key__']}.{k}")
        info.size, info.mtime, info.mode, info.uname, info.gname = len(v), 0, 0o444, "bigdata", "bigdata"
        total += len(info.tobuf(tarfile.PAX_FORMAT)) + -(-len(v) // _TAR_BLOCK) * _TAR_BLOCK
    return total


def _tar_bytes(members: int) -> int:
    return -(-(members + 2 * _TAR_BLOCK) // _TAR_RECORD) * _TAR_RECORD


_ENCODER: SplitEncoder | None = None  # set in each encoding worker (fork: inherited, not pickled)


def _encode_in_worker(args: tuple[int, int]) -> dict[str, Any]:
    assert _ENCODER is not None
    return _ENCODER.encode(*args)


def encoded_samples(enc: SplitEncoder, start: int, width: int, workers: int) -> Iterator[dict[str, Any]]:
    """Samples ``start..`` in order, encoded in ``workers`` processes when asked."""
    global _ENCODER
    jobs = ((i, width) for i in range(start, len(enc)))
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        yield from (enc.encode(*job) for job in jobs)
        return
    _ENCODER = enc
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_encode_in_worker, jobs, chunksize=8)
    finally:
        _ENCODER = None


def _write_tar(path: Path, samples: list[dict[str, Any]]) -> ShardEntry:
    """One shard, written atomically through ``<name>.tmp`` (the name a rerun cleans up after a
    kill). A fixed mtime makes reruns byte-identical."""
    wds = require("webdataset")
    with atomic_open(path, "wb", temp=path.with_name(path.name + ".tmp")) as f:
        writer = wds.TarWriter(f, encoder=False, mtime=0)  # an int: a float mtime adds a pax header
        for sample in samples:
            writer.write(sample)
        writer.close()
    return ShardEntry(path.name, len(samples), path.stat().st_size, file_sha256(path))


def write_tar_split(
    out: Path, split: str, enc: SplitEncoder, index: ShardIndex, opts: ShardOptions
) -> SplitResult:
    kept, complete = previous_shards(out, split, index.fingerprint, "webdataset")
    if complete:
        index.shards = kept
        return SplitResult(index, [])
    index.shards = list(kept)
    progress = out / progress_name(split)
    write_index(progress, index)  # from now on the split's shards in `out` are ours
    (out / index_name(split)).unlink(missing_ok=True)  # an index never names a shard being redone
    keep = {e.name for e in kept}
    for stale in [*out.glob(f"{split}-*.tar"), *out.glob(f"{split}-*.tar.tmp")]:
        if stale.name not in keep:
            stale.unlink()
    written: list[str] = []
    width = max(6, len(str(len(enc) - 1)))
    batch: list[dict[str, Any]] = []
    content = 0

    def flush() -> None:
        nonlocal batch, content
        name = f"{split}-{len(index.shards):06d}.tar"
        index.shards.append(_write_tar(out / name, batch))
        write_index(progress, index)
        written.append(name)
        batch, content = [], 0

    start = index.total_samples
    for sample in encoded_samples(enc, start, width, opts.workers):
        size = _member_bytes(sample)
        full = opts.shard_size is not None and len(batch) >= opts.shard_size
        too_big = opts.max_shard_bytes is not None and _tar_bytes(content + size) > opts.max_shard_bytes
        if batch and (full or too_big):
            flush()
        batch.append(sample)
        content += size
    if batch:
        flush()
    write_index(out / index_name(split), index)
    progress.unlink(missing_ok=True)
    return SplitResult(index, written)


def _fixed_shape(split: Split, info: DataInfo, copy_files: bool) -> list[int] | None:
    """(C, H, W) when every image has it. Copied files are probed by header (no decode)."""
    if not info.is_image:
        return None
    if not copy_files:
        return list(info.input_shape)
    from PIL import Image

    from litrain.data.files import GRAY_MODES

    shapes = set()
    for path, _ in split.items:  # type: ignore[union-attr]
        with Image.open(path) as img:
            shapes.add((1 if img.mode in GRAY_MODES else 3, img.height, img.width))
    return list(shapes.pop()) if len(shapes) == 1 else None


def write_local(cfg: DataConfig, opts: ShardOptions, out: Path) -> dict[str, SplitResult]:
    splits, info = source_splits(cfg)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, split in splits.items():
        ext, copy_files = choose_encoding(split, info, resize=cfg.image_size is not None)
        enc = SplitEncoder(split, info, ext, label_ext_for(info), copy_files, opts.quality)
        index = ShardIndex(
            split=name,
            sample_ext=ext,
            label_ext=enc.label_ext,
            fingerprint=_fingerprint(cfg, enc, opts),
            layout=opts.format,
            class_names=list(info.class_names),
            image_size=_fixed_shape(split, info, copy_files),
        )
        if opts.format == "litdata":
            from litrain.data.shards.write_litdata import write_litdata_split

            results[name] = write_litdata_split(out, name, enc, index, opts)
        else:
            results[name] = write_tar_split(out, name, enc, index, opts)
    return results


def is_remote(output: str) -> bool:
    return "://" in output and not output.startswith("file://")


def write_shards(cfg: DataConfig, opts: ShardOptions) -> dict[str, SplitResult]:
    """Write (or, with ``upload_only``, upload) the shards of ``cfg``'s source to
    ``opts.output``: a local directory or any fsspec URL (``s3://bucket/prefix``)."""
    opts.check()
    remote = is_remote(opts.output)
    if opts.upload_only:
        from litrain.data.shards.remote import upload_dir

        if not remote:
            raise ConfigError(
                f"--upload-only uploads a local shard dir (--data-dir) to a URL; {opts.output} is local"
            )
        if not cfg.root:
            raise ConfigError("--upload-only: set --data-dir to the local directory of shards to upload")
        return upload_dir(Path(cfg.root).expanduser(), opts.output, opts.storage_options)
    if not remote:
        return write_local(cfg, opts, Path(opts.output.removeprefix("file://")).expanduser())
    import tempfile

    from litrain.data.shards.remote import check_output, upload_dir

    check_output(opts.output, opts.storage_options)  # a bad bucket fails before any encoding
    # Shards are staged locally (renamed into place when complete, as for a local --output),
    # then uploaded: an object store has no rename, and a put is all-or-nothing anyway.
    with tempfile.TemporaryDirectory(prefix="litrain-shards-") as staging:
        write_local(cfg, opts, Path(staging))
        return upload_dir(Path(staging), opts.output, opts.storage_options)
