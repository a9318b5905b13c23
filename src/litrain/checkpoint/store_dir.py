"""Crash-safe checkpoint directories: FSDP's sharded checkpoints (one ``.distcp`` file per
rank, ``.metadata``, Lightning's ``meta.pt``).

One rename cannot replace a directory, so a save to ``NAME`` goes:

1. every rank writes into the staging dir ``.NAME.new.litrain-tmp`` beside ``NAME``;
2. rank 0 fsyncs every file in it and the dir itself (:func:`commit`);
3. rank 0 renames ``NAME`` away to ``.NAME.old.litrain-tmp``, renames the staging dir to
   ``NAME``, fsyncs the parent, and deletes the old dir.

A crash in 1-2 leaves the old ``NAME`` untouched; between the two renames of 3, both the old
and the new dir are complete under their temp names and :func:`recover` (run when a run
starts or resumes) finishes the swap; after them only a stale dir is left to delete. A
deletion renames ``NAME`` to ``.NAME.del.litrain-tmp`` first, so a half-deleted dir never
carries a checkpoint's name. Lightning-free; torch only to read ``.metadata``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from litrain.checkpoint.fsio import sidecar_path
from litrain.core.atomic import TEMP_SUFFIX, fsync_dir

META_FILE = "meta.pt"  # Lightning's non-tensor state of a sharded checkpoint (epoch, loops, ...)
_NEW, _OLD, _DEL = ".new", ".old", ".del"


def _temp(path: Path, kind: str) -> Path:
    return path.with_name(f".{path.name}{kind}{TEMP_SUFFIX}")


def staging_path(path: str | Path) -> Path:
    """Where the ranks write a save to ``path`` before :func:`commit` swaps it in."""
    return _temp(Path(path), _NEW)


def _drop(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clear_staging(path: str | Path) -> None:
    """Remove what a killed save to ``path`` left (rank 0, before the ranks write again)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    _drop(staging_path(p))


def _fsync_tree(directory: Path) -> None:
    for root, _, files in os.walk(directory):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)  # the inode's data, whichever process wrote it
            finally:
                os.close(fd)
        fsync_dir(root)


def commit(staged: Path, path: str | Path) -> None:
    """Make the fully written ``staged`` dir durable and swap it in as ``path``."""
    p = Path(path)
    _fsync_tree(staged)
    old = _temp(p, _OLD)
    _drop(old)  # from a crash after an earlier swap
    if p.exists() or p.is_symlink():
        os.rename(p, old)
    os.rename(staged, p)
    fsync_dir(p.parent)
    _drop(old)
    _drop(sidecar_path(p))  # a single file's checksum, if one was here


def remove(path: str | Path) -> None:
    """Delete a checkpoint dir so that no crash leaves part of it under its name."""
    p = Path(path)
    doomed = _temp(p, _DEL)
    _drop(doomed)
    with contextlib.suppress(FileNotFoundError):
        os.rename(p, doomed)
        fsync_dir(p.parent)
    _drop(doomed)


def recover(directory: str | Path) -> list[Path]:
    """Finish or undo what a crash interrupted in ``directory``: a swap stopped between its
    renames is completed (its staged dir was whole before the first rename); every other
    litrain temp dir is deleted. Returns the temp dirs removed or renamed."""
    d = Path(directory)
    touched: list[Path] = []
    for old in d.glob(f".*{_OLD}{TEMP_SUFFIX}"):
        final = d / old.name[1 : -len(_OLD + TEMP_SUFFIX)]
        if not final.exists():
            staged = staging_path(final)
            src = staged if staged.is_dir() else old  # roll forward when the new one is there
            os.rename(src, final)
            fsync_dir(d)
            touched.append(src)
    for tmp in d.glob(f".*{TEMP_SUFFIX}"):
        if tmp.is_dir():
            _drop(tmp)
            touched.append(tmp)
    return touched


def is_complete(path: str | Path) -> bool:
    """Whether ``path`` is a whole sharded checkpoint: ``.metadata`` and ``meta.pt`` are there
    and every shard file ``.metadata`` points into is present and long enough."""
    p = Path(path)
    if not (p / ".metadata").is_file() or not (p / META_FILE).is_file():
        return False
    from torch.distributed.checkpoint import FileSystemReader

    try:
        storage = FileSystemReader(p).read_metadata().storage_data or {}
    except Exception:  # unreadable or truncated .metadata
        return False
    for info in storage.values():
        shard = p / info.relative_path
        if not shard.is_file() or shard.stat().st_size < info.offset + info.length:
            return False
    return True
