"""What commands print after they ran: the metric table (last and best epoch), the
pipeline's stage table, and what fit/tune found (the LR finder's lr, profiler reports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _best_epoch(result: Any) -> dict[str, Any] | None:
    """The history.json row of the epoch the best checkpoint was saved at (fit only)."""
    import json
    import math

    summary = getattr(result, "summary", None) or {}
    if summary.get("best_metrics") and isinstance(summary.get("best_epoch"), int):
        return {**summary["best_metrics"], "epoch": summary["best_epoch"]}  # fit records it
    monitor, best = summary.get("monitor"), summary.get("best_metric")
    history = result.run_dir / "history.json"
    if not monitor or best is None or not history.is_file():
        return None
    rows = [r for r in json.loads(history.read_text()) if isinstance(r.get(monitor), int | float)]
    if not rows:
        return None
    row = min(rows, key=lambda r: abs(r[monitor] - best))
    return row if math.isclose(row[monitor], best, rel_tol=1e-6, abs_tol=1e-9) else None


def print_metrics(
    result: Any, quiet: bool, title: str, console: Any = None, checkpoint: str = "best checkpoint"
) -> None:
    from litrain.launch.environment import is_global_zero

    if not is_global_zero():  # one report per run, not one per process
        return
    if quiet:
        print(result.run_dir)
        return
    from rich.console import Console
    from rich.table import Table

    def fmt(v: Any) -> str:
        if not isinstance(v, int | float):
            return ""
        return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"

    best = _best_epoch(result)
    epochs = (getattr(result, "summary", None) or {}).get("epochs")
    table = Table(title=title)
    table.add_column("metric")
    if best is None:
        table.add_column("value", justify="right")
    else:  # which numbers are the last epoch's and which the best checkpoint's
        last = f"last (epoch {epochs - 1})" if isinstance(epochs, int) and epochs > 0 else "last"
        table.add_column(last, justify="right")
        table.add_column(f"best (epoch {best['epoch']})", justify="right")
    for k, v in sorted(result.metrics.items()):
        table.add_row(k, fmt(v), *([] if best is None else [fmt(best.get(k))]))
    console = console or Console()
    console.print(table)
    # paths on one line each, however narrow the terminal (a wrapped path cannot be pasted)
    if result.best_checkpoint:
        console.print(f"{checkpoint}: {result.best_checkpoint}", soft_wrap=True)
    if result.output:
        console.print(f"predictions: {result.output}", soft_wrap=True)
    console.print(f"run dir: {result.run_dir}", soft_wrap=True)


def print_found(result: Any, quiet: bool, started: float, tuned: bool = False) -> None:
    """What fit/tune computed beyond the metrics: the lr the LR finder chose (``--lr auto``,
    ``litrain tune lr``) with its plot, and the profiler's report. Files this command wrote
    (not older than ``started``) only, so a resumed run does not repeat an old finding."""
    from litrain.launch.environment import is_global_zero

    if quiet or not is_global_zero():
        return
    rd = Path(result.run_dir)
    new = started - 1.0  # coarse file-system clocks

    def fresh(p: Path) -> bool:
        return p.is_file() and p.stat().st_mtime >= new

    plot = rd / "plots" / "lr_finder.png"
    if fresh(plot):
        lr = result.config.optim.lr
        print(f"learning rate: {lr:.4g} (chosen by the LR finder; plot: {plot})")
        if tuned:
            print(f"config with this lr: {rd / 'config.yaml'} (litrain fit --config {rd / 'config.yaml'})")
    prof = rd / "profiler"
    reports = sorted(p for p in prof.rglob("*") if fresh(p)) if prof.is_dir() else []
    if len(reports) == 1:
        print(f"profiler report: {reports[0]}")
    elif reports:
        names = ", ".join(p.name for p in reports[:3]) + (", ..." if len(reports) > 3 else "")
        print(f"profiler reports: {prof} ({names})")


def print_pipeline(summary: dict[str, Any], quiet: bool) -> None:
    if quiet:
        print(summary["run_dir"])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="pipeline")
    pruned = any("sparsity" in st for st in summary["stages"])  # finetune.prune: beside the metric
    for col in ("stage", "status", "monitor", "best", *(["sparsity"] if pruned else []), "epochs"):
        table.add_column(col, justify="left" if col in ("stage", "status", "monitor") else "right")
    for st in summary["stages"]:
        best = st.get("best_metric")
        best_text = f"{best:.4f}" if isinstance(best, int | float) else ""
        sparsity = [f"{st['sparsity']:.1%}" if "sparsity" in st else ""] if pruned else []
        table.add_row(
            st["name"],
            st["status"],
            st.get("monitor") or "",
            best_text,
            *sparsity,
            str(st.get("epochs") or ""),
        )
    console = Console()
    console.print(table)
    for st in summary["stages"]:
        if st.get("best_checkpoint"):
            path = Path(summary["run_dir"]) / st["best_checkpoint"]  # relative to the pipeline's dir
            console.print(f"{st['name']} best checkpoint: {path}", soft_wrap=True)
    console.print(f"run dir: {summary['run_dir']} (pipeline.json)", soft_wrap=True)
