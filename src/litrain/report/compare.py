"""The comparison page of several runs: the config keys that differ, final and best metrics
side by side, and every metric family's curves overlaid (one colour per run)."""

from __future__ import annotations

from litrain.report import svg
from litrain.report.read import Run, flatten
from litrain.report.sections import curve_families
from litrain.report.svg import Series
from litrain.report.tables import cols, figure, figures, table

# Keys that differ between any two runs without saying anything about them.
IGNORED = ("run.dir", "run.name")


def labels(runs: list[Run]) -> list[str]:
    """Run names, made unique with the dir name when two runs share one."""
    names = [r.name for r in runs]
    return [f"{r.name} ({r.path.name})" if names.count(r.name) > 1 else r.name for r in runs]


def overview(runs: list[Run]) -> str:
    rows = []
    for label, r in zip(labels(runs), runs, strict=True):
        s = r.summary
        rows.append(
            [
                label,
                r.task,
                s.get("engine"),
                s.get("monitor"),
                s.get("best_metric"),
                s.get("epochs"),
                s.get("wall_time_s"),
                str(r.path),
            ]
        )
    return table(["run", "task", "engine", "monitor", "best", "epochs", "wall time s", "dir"], rows)


def config_diff(runs: list[Run]) -> str:
    flat = [flatten(r.config) for r in runs]
    keys = sorted({k for f in flat for k in f} - set(IGNORED))
    rows = [[k, *(f.get(k, "—") for f in flat)] for k in keys if len({repr(f.get(k)) for f in flat}) > 1]
    if not rows:
        return "<p>The configs agree on every key (apart from the run's name and dir).</p>"
    return table(["key", *labels(runs)], rows, "diff")


def metrics(runs: list[Run], which: str) -> str:
    values = [v if isinstance(v := r.summary.get(which), dict) else {} for r in runs]
    names = sorted({k for v in values for k in v})
    if not names:
        return "<p>No summary.json metrics.</p>"
    return table(["metric", *labels(runs)], [[n, *(v.get(n) for v in values)] for n in names])


def curves(runs: list[Run]) -> str:
    """One figure per (family, curve name) shared by the runs, each run a colour."""
    names: dict[str, list[str]] = {}
    for r in runs:
        for fam, curve_names in curve_families(r).items():
            for n in curve_names:
                if not n.endswith("_epoch") and n not in names.setdefault(fam, []):
                    names[fam].append(n)
    figs = []
    for curve_names in names.values():
        for n in curve_names:
            series = [
                Series(lbl, *r.curves[n]) for lbl, r in zip(labels(runs), runs, strict=True) if n in r.curves
            ]
            figs.append(figure(svg.line_chart(series, runs[0].x_label, n, legend=True), n))
    return figures(figs) or "<p>No logged curves.</p>"


def compare_sections(runs: list[Run]) -> list[tuple[str, str, str]]:
    last, best = metrics(runs, "metrics"), metrics(runs, "best_metrics")
    return [
        ("runs", "Runs", overview(runs)),
        ("config-diff", "Config keys that differ", config_diff(runs)),
        ("metrics", "Metrics", cols(f"<h3>Last epoch</h3>{last}", f"<h3>Best epoch</h3>{best}")),
        ("curves", "Curves", curves(runs)),
    ]
