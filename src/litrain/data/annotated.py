"""What annotation-file sources (video files, multi-view images) share: bad samples
(error or skip), the split column, the targets and the DataInfo."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import Dataset

from litrain.config import DataConfig
from litrain.core.dist import rank_and_world
from litrain.data.annotations import Annotations, find_annotations, read_annotations
from litrain.data.base import DataInfo, SourceData
from litrain.data.heads import Targets, pack_targets
from litrain.errors import DataError


def load_annotations(cfg: DataConfig, what: str) -> tuple[Path, Annotations]:
    """(annotation file, its samples, paths resolved against data.root)."""
    if cfg.root is None:
        raise DataError(f"data.source={cfg.source} reads {what}: set data.root (--data-dir DIR)")
    root = Path(cfg.root).expanduser()
    if not root.is_dir():
        raise DataError(f"data.root {root} is not a directory; put {what} and the annotation file there")
    path = find_annotations(root, cfg.annotations)
    return path, read_annotations(path, root)


def usable_samples(ann: Annotations, bad: dict[Path, str], on_bad: str, what: str) -> list[int]:
    """Indices of the samples none of whose view files is in ``bad`` (file -> why). With
    ``on_bad`` error the first bad file is a DataError; with skip its samples are left out
    and counted on stderr."""
    if bad and on_bad == "error":
        first = next(bad[f] for files in ann.files for f in files if f in bad)  # in sample order
        raise DataError(f"{first} (or set data.on_bad_sample=skip to leave such samples out)")
    keep = [i for i, files in enumerate(ann.files) if not any(f in bad for f in files if f is not None)]
    if bad:
        skipped = len(ann.files) - len(keep)
        examples = "; ".join(list(bad.values())[:3])
        _note(
            f"skipped {skipped} of {len(ann.files)} samples with a bad {what} ({len(bad)} files): {examples}"
        )
    if not keep:
        raise DataError(f"every sample has a bad {what}: {next(iter(bad.values()))}")
    return keep


def _note(line: str) -> None:
    if rank_and_world()[0] == 0:
        print(f"litrain: data: {line}", file=sys.stderr, flush=True)


def annotated_source(
    ann: Annotations,
    keep: list[int],
    where: Path,
    make: Callable[[list[int], torch.Tensor], Dataset],
    view_shape: tuple[int, ...],
    is_image: bool,
    is_video: bool = False,
) -> SourceData:
    """Train/val/test datasets (``make(sample indices, targets)``) of the kept samples, split
    by the annotation file's split column when it has one."""
    labels = {h: a[keep] for h, a in ann.labels.items()}
    t: Targets = pack_targets(labels, str(where), ann.class_names)
    shape = (ann.views, *view_shape) if ann.views else view_shape
    info = DataInfo(
        shape,
        t.num_classes,
        t.class_names,
        t.multilabel,
        is_image=is_image,
        is_video=is_video,
        float_targets=t.float_targets,
        head_columns=t.head_columns,
        head_classes=t.head_classes,
        views=ann.views,
    )
    if ann.splits is None:
        return SourceData(make(keep, t.y), info)
    parts: dict[str, Dataset | None] = {}
    for split in ("train", "val", "test"):
        rows = [k for k, i in enumerate(keep) if ann.splits[i] == split]
        parts[split] = make([keep[r] for r in rows], t.y[rows]) if rows else None
    if parts["train"] is None:
        raise DataError(f"annotation file {where}: no sample has split train")
    return SourceData(parts["train"], info, parts["val"], parts["test"])
