"""The predictions files of a regression run, in the targets' original units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import Tensor

from litrain.core.atomic import atomic_open, atomic_write_text


def write_table_predictions(path: Path, preds: Tensor, targets: Tensor | None) -> Path:
    """predictions.csv: ``index,target,pred`` for scalar targets; for K-vectors
    ``index,target_0..target_{K-1},pred_0..pred_{K-1}``. No targets: empty target cells."""
    p = preds.reshape(len(preds), -1).tolist()
    t = targets.reshape(len(targets), -1).tolist() if targets is not None else None
    width = len(p[0]) if p else 1
    cols = (
        ["target", "pred"] if width == 1 else [f"{k}_{j}" for k in ("target", "pred") for j in range(width)]
    )
    lines = [",".join(["index", *cols])]
    for i, row in enumerate(p):
        target = [f"{v:.8g}" for v in t[i]] if t is not None else [""] * width
        lines.append(",".join([str(i), *target, *(f"{v:.8g}" for v in row)]))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def write_field_predictions(path: Path, preds: Tensor, targets: Tensor | None) -> Path:
    """``path`` with suffix .npy holds the (N, *target_shape) float32 predictions, in the
    split's order; the targets go beside it as targets.npy (``<stem>_targets.npy`` for
    another name than predictions)."""
    out = path.with_suffix(".npy")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out, "wb") as f:
        np.save(f, preds.float().cpu().numpy())
    if targets is not None:
        name = "targets.npy" if out.stem == "predictions" else f"{out.stem}_targets.npy"
        with atomic_open(out.with_name(name), "wb") as f:
            np.save(f, targets.float().cpu().numpy())
    return out
