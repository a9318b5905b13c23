"""Files a classification run writes beside its metrics: the confusion matrix (CSV + PNG)
and predictions.csv. Called through the Task protocol; matplotlib only when drawing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from litrain.core.atomic import atomic_open, atomic_write_text


def save_confusion_matrix(matrix: torch.Tensor, run_dir: Path) -> None:
    """confusion_matrix.csv (rows: true class, columns: predicted) and plots/confusion_matrix.png.
    Multilabel matrices (L, 2, 2) are written one row per label: tn, fp, fn, tp."""
    m = matrix.long().numpy()
    lines = []
    if m.ndim == 3:
        lines.append("label,tn,fp,fn,tp")
        lines += [f"{i},{r[0, 0]},{r[0, 1]},{r[1, 0]},{r[1, 1]}" for i, r in enumerate(m)]
    else:
        lines.append("true\\pred," + ",".join(str(i) for i in range(m.shape[1])))
        lines += [f"{i}," + ",".join(str(v) for v in row) for i, row in enumerate(m)]
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "confusion_matrix.csv", "\n".join(lines) + "\n")
    if m.ndim != 2:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (run_dir / "plots").mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(m, cmap="Blues")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if m.shape[0] <= 20:
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
    fig.tight_layout()
    with atomic_open(run_dir / "plots" / "confusion_matrix.png", "wb") as f:
        fig.savefig(f, format="png", dpi=80)
    plt.close(fig)


def write_predictions(
    path: Path, probs: Tensor, targets: Tensor | None, names: list[str], preds: Tensor, multilabel: bool
) -> Path:
    """predictions.csv: index, target, pred, then one probability column per class; a
    multilabel target or prediction is its positive labels joined by ';'."""

    def labels(row: Tensor) -> str:
        return ";".join(str(j) for j in row.nonzero().flatten().tolist())

    header = ["index", "target", "pred"] + [f"prob_{n}" for n in names[: probs.shape[1]]]
    lines = [",".join(header)]
    for i in range(len(probs)):
        if multilabel:
            pred = labels(preds[i])
            target = labels(targets[i]) if targets is not None else ""
        else:
            pred = str(int(preds[i]))
            target = str(int(targets[i])) if targets is not None else ""
        lines.append(",".join([str(i), target, pred] + [f"{p:.6f}" for p in probs[i].tolist()]))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
