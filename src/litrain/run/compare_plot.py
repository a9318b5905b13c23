"""``litrain runs compare --plot FILE.png``: the runs' logged curves overlaid, one panel per
metric, one line per run, against the optimizer step (logs/metrics.csv of each run)."""

from __future__ import annotations

from pathlib import Path

from litrain.core.atomic import atomic_open
from litrain.errors import ConfigError
from litrain.run.catalog import RunRecord


def default_metrics(runs: list[RunRecord]) -> list[str]:
    """The step loss, the validation loss and each run's monitor, where every run logged them."""
    curves = [set(r.curves()) for r in runs]
    common = set.intersection(*curves) if curves else set()
    wanted = ["train/loss_step", "train/loss", "val/loss"]
    wanted += [m for r in runs if (m := r.summary.get("monitor"))]
    return [m for m in dict.fromkeys(wanted) if m in common]


def plot_runs(runs: list[RunRecord], output: Path, metrics: list[str] | None = None) -> list[str]:
    """Write the PNG; the metrics it drew."""
    names = metrics or default_metrics(runs)
    if not names:
        raise ConfigError(
            "runs compare --plot: the runs share no logged metric (logs/metrics.csv); pass --metric NAME"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = [r.curves() for r in runs]
    fig, axes = plt.subplots(len(names), 1, figsize=(7, 3 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        for run, curve in zip(runs, curves, strict=True):
            pts = curve.get(name, [])
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker="." if len(pts) < 50 else None,
                label=run.name,
            )
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(output, "wb") as f:
        fig.savefig(f, format="png", dpi=80)
    plt.close(fig)
    return names
