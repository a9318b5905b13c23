"""The checksum sidecar's name, which both stores share (the atomic-write primitives they
build on, temp names included, are :mod:`litrain.core.atomic`). It sits
below :mod:`~litrain.checkpoint.store` (files) and :mod:`~litrain.checkpoint.store_dir`
(sharded directories) so that ``store`` can use ``store_dir`` without ``store_dir`` importing
``store`` back (no import cycle)."""

from __future__ import annotations

from pathlib import Path

SIDECAR_SUFFIX = ".sha256"


def sidecar_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.name + SIDECAR_SUFFIX)
