"""Multi-task targets of the arrays source: one ``y_<head>`` array per head in the ``.npz``
(or ``targets/<head>.npy`` beside ``x.npy``), packed column-wise into one float32 y.

Packing keeps every loader, sampler and DDP shard unchanged (they move one target tensor);
``DataInfo.head_columns`` says which columns belong to which head and the task splits them
again. Class labels are stored as floats, exact for labels below 2**24."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from litrain.data.base import DataInfo, SourceData
from litrain.errors import DataError

PREFIX = "y_"


def head_names(path: Path) -> list[str]:
    """The heads a split file (an .npz) or directory (targets/*.npy) holds targets for."""
    if path.is_dir():
        folder = path / "targets"
        return sorted(p.stem for p in folder.glob("*.npy")) if folder.is_dir() else []
    try:
        with np.load(path) as z:
            return [k[len(PREFIX) :] for k in z.files if k.startswith(PREFIX)]
    except Exception as exc:  # truncated zip, bad header
        raise DataError(f"cannot read arrays from {path}: {exc}") from None


def _read(path: Path, heads: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    try:
        if path.is_dir():
            return np.load(path / "x.npy"), {h: np.load(path / "targets" / f"{h}.npy") for h in heads}
        with np.load(path) as z:
            if "x" not in z:
                raise DataError(f"{path} must hold an array named x, found {list(z.keys())}")
            return z["x"], {h: z[PREFIX + h] for h in heads}
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"cannot read arrays from {path}: {exc}") from None


def input_tensor(path: Path, x: np.ndarray) -> torch.Tensor:
    """x as the arrays source reads it (single- and multi-task alike): float32, uint8 scaled to [0, 1], (N, H, W) uint8 as
    one-channel images."""
    if len(x) == 0:
        raise DataError(f"{path}: holds no samples")
    if x.dtype.kind not in "fiub":
        raise DataError(f"{path}: x must be numeric, got dtype {x.dtype}")
    xt = torch.as_tensor(x, dtype=torch.float32)
    if not torch.isfinite(xt).all():
        raise DataError(f"{path}: x holds NaN or infinite values; clean or impute them first")
    if x.dtype == np.uint8:
        xt = (xt.unsqueeze(1) if xt.ndim == 3 else xt) / 255.0
    return xt


def _column_block(path: Path, head: str, y: np.ndarray, n: int) -> np.ndarray:
    if y.dtype.kind not in "fiub":
        raise DataError(f"{path}: y_{head} must be numeric, got dtype {y.dtype}")
    if len(y) != n:
        raise DataError(f"{path}: x has {n} samples but y_{head} has {len(y)}")
    if y.ndim not in (1, 2):
        raise DataError(f"{path}: y_{head} has shape {y.shape}; expected (N,) or (N, K)")
    block = y.reshape(n, -1).astype(np.float32)
    bad = ~np.isfinite(block).all(axis=1)
    if bad.any():
        raise DataError(f"{path}: y_{head} holds NaN or infinite values (sample {int(bad.argmax())})")
    return block


def multitarget_source(files: dict[str, Path]) -> SourceData | None:
    """The arrays source for multi-task data, or None when the train file has no per-head
    targets (then it is single-target data). Every split must hold the same heads, in the
    train file's order, with the same widths."""
    heads = head_names(files["train"])
    if not heads:
        return None
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    widths: dict[str, int] = {}
    classes: dict[str, int] = {}
    shape: tuple[int, ...] | None = None
    for name, path in files.items():
        found = head_names(path)
        if sorted(found) != sorted(heads):
            raise DataError(f"{path}: holds targets for {sorted(found)}, the train data for {sorted(heads)}")
        x, ys = _read(path, heads)
        xt = input_tensor(path, x)
        if shape is not None and tuple(xt.shape[1:]) != shape:
            raise DataError(f"{path}: samples have shape {tuple(xt.shape[1:])}, train has {shape}")
        shape = tuple(xt.shape[1:])
        blocks = []
        for head in heads:
            block = _column_block(path, head, ys[head], len(xt))
            if widths.setdefault(head, block.shape[1]) != block.shape[1]:
                raise DataError(f"{path}: y_{head} has {block.shape[1]} columns, train's {widths[head]}")
            if block.shape[1] == 1 and np.all(np.mod(block, 1) == 0) and block.min() >= 0:
                classes[head] = max(classes.get(head, 0), int(block.max()) + 1)  # integer labels
            elif block.shape[1] > 1 and np.isin(block, (0, 1)).all():
                classes[head] = block.shape[1]  # 0/1 multilabel columns
            blocks.append(block)
        splits[name] = (xt, torch.from_numpy(np.concatenate(blocks, axis=1)))
    assert shape is not None
    total = sum(widths.values())
    info = DataInfo(
        shape,
        total,
        [str(i) for i in range(total)],
        is_image=len(shape) == 3,
        float_targets=True,
        head_columns=dict(widths),
        head_classes={h: classes[h] for h in heads if h in classes},
    )
    return SourceData(splits["train"], info, splits.get("val"), splits.get("test"))
