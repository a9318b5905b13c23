"""predictions.csv of a multi-task run: one set of columns per head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor

from litrain.core.atomic import atomic_write_text
from litrain.tasks.multitask_heads import Head


def _fmt(v: float) -> str:
    return f"{v:.6f}"


def write_predictions(path: Path, heads: list[Head], predictions: Tensor, targets: Any) -> Path:
    """index, then per head: ``<head>_target``, ``<head>_pred`` and ``<head>_prob_<c>`` per
    class (classification, binary: class 0 and 1); multilabel target and pred are the positive
    labels joined by ';'; a regression head with K > 1 columns has ``<head>_target_<j>`` and
    ``<head>_pred_<j>``. ``predictions`` is ``MultiTaskTask.prediction`` per sample."""
    header, blocks, start = ["index"], [], 0
    for h in heads:
        width = (
            h.cols.stop - h.cols.start
            if h.kind == "regression"
            else (2 if h.kind == "binary" else h.cfg.num_classes)
        )
        blocks.append((h, slice(start, start + width)))
        start += width
        if h.kind == "regression" and width > 1:
            header += [f"{h.name}_target_{j}" for j in range(width)] + [
                f"{h.name}_pred_{j}" for j in range(width)
            ]
        elif h.kind == "regression":
            header += [f"{h.name}_target", f"{h.name}_pred"]
        else:
            header += [f"{h.name}_target", f"{h.name}_pred"] + [f"{h.name}_prob_{c}" for c in range(width)]
    lines = [",".join(header)]
    for i in range(len(predictions)):
        row = [str(i)]
        for h, part in blocks:
            p = predictions[i, part]
            t = targets[i, h.cols] if targets is not None else None
            if h.kind == "regression":
                row += [_fmt(v) for v in t.tolist()] if t is not None else [""] * len(p)
                row += [_fmt(v) for v in p.tolist()]
                continue
            if h.kind == "multilabel":
                pred = ";".join(str(j) for j in (p > 0.5).nonzero().flatten().tolist())
                target = ";".join(str(j) for j in t.nonzero().flatten().tolist()) if t is not None else ""
            else:
                pred = str(int(p.argmax()))
                target = str(int(t[0])) if t is not None else ""
            row += [target, pred] + [_fmt(v) for v in p.tolist()]
        lines.append(",".join(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
