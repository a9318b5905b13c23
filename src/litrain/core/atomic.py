"""Atomic, durable file writes: the one way litrain writes a file that someone may read while
it is written or after a crash (checkpoints, summary.json, status files, history, logs, shard
indexes and caches).

A write goes to a temp file in the target's directory, is flushed and fsynced, then
``os.replace``d over the target, then the directory is fsynced: a crash at any instant leaves
the old file or the new one, never a torn one. A write that raises removes its temp file and
leaves the old file as it was. It sits in ``core/`` so that ``checkpoint/`` (which adds the
checksum sidecars) and ``data/`` can both use it. No torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "TEMP_SUFFIX",
    "atomic_open",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "fsync_dir",
    "move_into_place",
    "write_temp",
]

TEMP_SUFFIX = ".litrain-tmp"  # every temp file/dir a writer makes ends so: what cleaners glob
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: there is no way to read it without setting it


def fsync_dir(path: str | Path) -> None:
    """Make a rename in ``path`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _temp_file(path: Path, mode: str, temp: Path | None, **open_kw: Any) -> Iterator[tuple[IO[Any], Path]]:
    """An open temp file beside ``path`` (or at ``temp``), flushed and fsynced when the block
    ends, removed again if the block fails."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic writes open files with mode 'w' or 'wb', not {mode!r}")
    if temp is None:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; the file gets the usual mode
        tmp = Path(name)
    else:
        tmp = Path(temp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        with os.fdopen(fd, mode, **open_kw) as f:
            yield f, tmp
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_temp(path: str | Path, write: Callable[[IO[Any]], None], mode: str = "wb") -> Path:
    """Write through ``write(file)`` into a fresh temp file beside ``path``, fsynced, and
    return the temp's path: not yet in place (:func:`move_into_place` puts it there). For a
    writer that must do something between the two (the checkpoint store's sidecar)."""
    with _temp_file(Path(path), mode, None) as (f, tmp):
        write(f)
    return tmp


def move_into_place(tmp: str | Path, path: str | Path) -> None:
    """Rename the written ``tmp`` over ``path`` and make the rename durable."""
    p = Path(path)
    os.replace(tmp, p)
    fsync_dir(p.parent)


@contextlib.contextmanager
def atomic_open(
    path: str | Path, mode: str = "wb", *, temp: str | Path | None = None, **open_kw: Any
) -> Iterator[IO[Any]]:
    """``with atomic_open(path, "w") as f: ...``: ``f`` is a temp file that replaces ``path``
    when the block ends, or is removed (and ``path`` left as it was) when it raises.
    ``temp`` names the temp file (default: a fresh hidden name ending in ``TEMP_SUFFIX``)
    for writers whose reruns clean up after a kill by that name. ``open_kw`` go to ``open``
    (``newline=""`` for csv, ``encoding``)."""
    p = Path(path)
    with _temp_file(p, mode, None if temp is None else Path(temp), **open_kw) as (f, tmp):
        yield f
    try:
        move_into_place(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write(path: str | Path, write: Callable[[IO[Any]], None], mode: str = "wb") -> None:
    """Replace ``path`` atomically and durably with what ``write(file)`` writes."""
    with atomic_open(path, mode) as f:
        write(f)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)


def atomic_write_json(path: str | Path, data: Any, indent: int | None = 2) -> None:
    atomic_write_text(path, json.dumps(data, indent=indent))
