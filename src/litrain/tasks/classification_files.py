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
    path: Path,
    probs: Tensor,
    targets: Tensor | None,
    names: list[str],
    preds: Tensor,
    multilabel: bool,
    extra: dict[str, Tensor] | None = None,
) -> Path:
    """predictions.csv: index, target, pred, then one probability column per class, then the
    ``extra`` columns (one value per sample: the uncertainty of an ensemble or MC dropout); a
    multilabel target or prediction is its positive labels joined by ';'."""
    extra = extra or {}

    def labels(row: Tensor) -> str:
        return ";".join(str(j) for j in row.nonzero().flatten().tolist())

    header = ["index", "target", "pred"] + [f"prob_{n}" for n in names[: probs.shape[1]]] + list(extra)
    lines = [",".join(header)]
    for i in range(len(probs)):
        if multilabel:
            pred = labels(preds[i])
            target = labels(targets[i]) if targets is not None else ""
        else:
            pred = str(int(preds[i]))
            target = str(int(targets[i])) if targets is not None else ""
        cells = [f"{p:.6f}" for p in probs[i].tolist()] + [f"{float(v[i]):.6f}" for v in extra.values()]
        lines.append(",".join([str(i), target, pred, *cells]))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def save_reliability(curves: dict[str, dict], run_dir: Path, name: str) -> list[Path]:
    """``<name>.json`` (the bins of each curve, ``uncertainty.reliability_bins``) in the run
    dir and ``plots/<name>.png``: each curve's accuracy against its mean confidence per bin,
    with the diagonal a calibrated model lies on."""
    from litrain.core.atomic import atomic_write_json

    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / f"{name}.json", curves)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (run_dir / "plots").mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    for label, curve in curves.items():
        seen = [b for b in curve["bins"] if b["count"]]
        ax.plot(
            [b["confidence"] for b in seen],
            [b["accuracy"] for b in seen],
            marker="o",
            label=f"{label} (ECE {curve['ece']:.3f})",
        )
    binary = next(iter(curves.values()), {}).get("mode") != "multiclass"
    ax.set_xlabel("mean p(1)" if binary else "mean confidence")
    ax.set_ylabel("frequency of 1" if binary else "accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    fig.tight_layout()
    png = run_dir / "plots" / f"{name}.png"
    with atomic_open(png, "wb") as f:
        fig.savefig(f, format="png", dpi=80)
    plt.close(fig)
    return [run_dir / f"{name}.json", png]
