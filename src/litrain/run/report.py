"""Run-dir artifacts drawn from recorded numbers: history.json, plots/, summary.json and
the confusion matrix. Shared by both engines; matplotlib is imported only when drawing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch


def write_json(path: Path, data: Any) -> None:
    """Write through a temp file and rename, so a crash never leaves half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False))
    os.replace(tmp, path)


def plot_history(history: list[dict[str, float]], plots_dir: Path) -> list[Path]:
    """One PNG per metric family: loss.png (train/val loss), then acc.png, f1.png, ..."""
    if not history:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots_dir.mkdir(parents=True, exist_ok=True)
    families: dict[str, list[str]] = {}
    for key in sorted({k for row in history for k in row if "/" in k}):
        families.setdefault(key.split("/", 1)[1], []).append(key)
    written = []
    for family, keys in families.items():
        if family == "lr":
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        for key in keys:
            pts = [(row["epoch"], row[key]) for row in history if key in row]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(family)
        ax.legend()
        ax.grid(alpha=0.3)
        path = plots_dir / f"{family.replace('/', '_')}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)
        written.append(path)
    return written


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
    (run_dir / "confusion_matrix.csv").write_text("\n".join(lines) + "\n")
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
    fig.savefig(run_dir / "plots" / "confusion_matrix.png", dpi=80)
    plt.close(fig)


def tensor_dict_to_floats(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        if (isinstance(v, torch.Tensor) and v.numel() == 1) or isinstance(v, int | float):
            out[k] = float(v)
    return out


def epoch_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Per-epoch view of Lightning's callback metrics: ``train/loss_epoch`` -> ``train/loss``,
    per-step values dropped."""
    out = {}
    for k, v in tensor_dict_to_floats(metrics).items():
        if k.endswith("_step"):
            continue
        out[k.removesuffix("_epoch")] = v
    return out
