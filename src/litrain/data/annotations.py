"""Annotation files: per sample, one or more view files and one label per head.

CSV: a header row; the view columns are ``path`` (one view, no view axis) or
``path_<view>`` columns (several views, in column order; an empty cell is a missing view);
an optional ``split`` column (train, val or test); every other column is one head's label.
JSON: a list of objects with ``path`` (one view) or ``paths`` (a list; null or "" for a
missing view), optional ``split``, and one key per head.

A head's labels are integers (class indices), other numbers (regression targets) or
strings (class names, indexed in sorted order). Paths are relative to the data folder
unless absolute.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from litrain.errors import DataError

SPLITS = ("train", "val", "test")


@dataclass
class Annotations:
    files: list[list[Path | None]]  # per sample, per view (None: a missing view)
    labels: dict[str, np.ndarray]  # per head, (N,) int64 or float32
    class_names: dict[str, list[str]] = field(default_factory=dict)  # string-labelled heads
    splits: list[str] | None = None  # per sample, when the file has a split column
    views: int = 0  # 0: one view per sample, no view axis


def find_annotations(root: Path, given: str | None) -> Path:
    """``data.annotations``, or annotations.csv / annotations.json in ``root``."""
    if given:
        path = Path(given).expanduser()
        path = path if path.is_absolute() or path.exists() else root / path
        if not path.is_file():
            raise DataError(f"data.annotations file {path} does not exist")
        return path
    for name in ("annotations.csv", "annotations.json"):
        if (root / name).is_file():
            return root / name
    raise DataError(
        f"no annotation file in {root}: put annotations.csv or annotations.json there "
        "(view file paths and one column per head; see docs/tasks.md), or set data.annotations"
    )


def read_annotations(path: Path, root: Path) -> Annotations:
    """The samples of a CSV or JSON annotation file; view paths resolved against ``root``."""
    try:
        if path.suffix.lower() == ".json":
            rows, view_keys = _json_rows(path)
        else:
            rows, view_keys = _csv_rows(path)
    except DataError:
        raise
    except (OSError, ValueError, csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read annotation file {path}: {exc}") from None
    if not rows:
        raise DataError(f"annotation file {path} lists no samples")
    multi = view_keys != ["path"]
    heads = [k for k in rows[0] if k not in ("split", "paths", *view_keys)]
    if not heads:
        raise DataError(f"annotation file {path} has no label column: add one column per head")
    files = []
    for i, row in enumerate(rows):
        views = row["paths"] if "paths" in row else [row.get(k) for k in view_keys]
        paths = [_resolve(root, v) for v in views]
        if not any(p is not None for p in paths):
            raise DataError(
                f"annotation file {path}, sample {i}: no view file given; every sample needs "
                "at least one valid view"
            )
        files.append(paths)
    width = max(len(f) for f in files)
    files = [f + [None] * (width - len(f)) for f in files]
    labels, names = {}, {}
    for head in heads:
        labels[head], found = _column([row.get(head) for row in rows], head, path)
        if found:
            names[head] = found
    splits = None
    if any("split" in row for row in rows):
        splits = [str(row.get("split") or "train").strip().lower() for row in rows]
        bad = sorted(set(splits) - set(SPLITS))
        if bad:
            raise DataError(f"annotation file {path}: split values {bad}; use train, val or test")
    return Annotations(files, labels, names, splits, width if multi else 0)


def _csv_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0]) if rows else []
    views = ["path"] if "path" in columns else [c for c in columns if c.startswith("path_")]
    if not views:
        raise DataError(
            f"annotation file {path} has no view column: name it path (one view) or "
            f"path_<view> (several views); found {columns}"
        )
    return rows, views


def _json_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    rows = json.loads(path.read_text())
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DataError(f"annotation file {path} must hold a list of objects, one per sample")
    if rows and not all("path" in r or "paths" in r for r in rows):
        raise DataError(f"annotation file {path}: every sample needs a path (one view) or paths (a list)")
    if any("paths" in r for r in rows):
        for i, r in enumerate(rows):
            if not isinstance(r.get("paths", [r.get("path")]), list):
                raise DataError(f"annotation file {path}, sample {i}: paths must be a list")
            r.setdefault("paths", [r.pop("path", None)])
        return rows, ["paths"]
    return rows, ["path"]


def _resolve(root: Path, value: object) -> Path | None:
    if value is None or str(value).strip() == "":
        return None
    p = Path(str(value).strip()).expanduser()
    return p if p.is_absolute() else root / p


def _column(values: list[Any], head: str, path: Path) -> tuple[np.ndarray, list[str]]:
    """(labels, class names): integers, floats, or strings indexed in sorted order."""
    missing = [i for i, v in enumerate(values) if v is None or str(v).strip() == ""]
    if missing:
        raise DataError(f"annotation file {path}: sample {missing[0]} has no {head!r} label")
    text = [str(v).strip() for v in values]
    try:
        nums = np.array([float(v) for v in text], dtype=np.float64)
    except ValueError:
        names = sorted(set(text))
        index = {n: i for i, n in enumerate(names)}
        return np.array([index[v] for v in text], dtype=np.int64), names
    if np.all(np.mod(nums, 1) == 0):
        return nums.astype(np.int64), []
    return nums.astype(np.float32), []
