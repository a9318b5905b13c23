"""Run-dir artifacts drawn from recorded numbers: history.json, plots/ and summary.json.
Shared by both engines; matplotlib is imported only when drawing. (A task's own artifacts,
such as the confusion matrix, are written by the task.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from litrain.config import Config
from litrain.core.atomic import atomic_open, atomic_write_json, atomic_write_text
from litrain.core.noise import note


def write_json(path: Path, data: Any) -> None:
    """Atomically (see :mod:`litrain.core.atomic`): a crash never leaves half a file."""
    atomic_write_json(path, data)


def write_config(cfg: Config, path: Path) -> None:
    """config.yaml (and a group's config), atomically: a resume reads it back."""
    atomic_write_text(path, cfg.to_yaml())


def write_fit_report(run_dir: Path, quiet: bool) -> Path | None:
    """report.html at the end of a fit (``logging.report``). It is drawn from files the run
    already wrote, so a failure costs one line, never the finished run."""
    from litrain.report import write_report

    try:
        return write_report(run_dir)
    except Exception as exc:  # the checkpoints and summary are written: keep the run
        note(
            f"report.html not written ({type(exc).__name__}: {exc}); `litrain report {run_dir}` retries",
            quiet,
        )
        return None


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
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=80)
        plt.close(fig)
        written.append(path)
    return written


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
