"""The file-system bits both stores share: litrain's temp and sidecar names and a durable
directory fsync. It sits below :mod:`~litrain.checkpoint.store` (files) and
:mod:`~litrain.checkpoint.store_dir` (sharded directories) so that ``store`` can use
``store_dir`` without ``store_dir`` importing ``store`` back (no import cycle)."""

from __future__ import annotations

import os
from pathlib import Path

TEMP_SUFFIX = ".litrain-tmp"  # every temp file/dir a writer makes ends so: clean_stale_temps' glob
SIDECAR_SUFFIX = ".sha256"


def sidecar_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


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
