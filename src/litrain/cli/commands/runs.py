"""``litrain runs list [DIR]`` (a table of the run dirs under DIR), ``litrain runs compare
RUN_A RUN_B ...`` (the config keys that differ, the final and best metrics side by side,
``--plot FILE.png`` their curves overlaid) and ``litrain runs sync RUN_DIR`` (what a run
logged offline, or while its MLflow server was away, sent to MLflow). With ``--mlflow-uri
URI --experiment NAME`` list and compare read that experiment's runs instead. No torch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="a table of the runs under DIR (default ./runs)")
    ls.add_argument("dir", nargs="?", default="runs", metavar="DIR")
    cmp = sub.add_parser("compare", help="config differences and metrics of RUN dirs side by side")
    cmp.add_argument("runs", nargs="+", metavar="RUN", help="run dirs, or MLflow run names/ids (two or more)")
    for q in (ls, cmp):
        q.add_argument(
            "--mlflow-uri", default=None, metavar="URI", help="read the runs of an MLflow experiment"
        )
        q.add_argument(
            "--experiment", default=None, metavar="NAME", help="the experiment (with --mlflow-uri)"
        )
    cmp.add_argument("--plot", default=None, metavar="FILE.png", help="overlaid curves from logs/metrics.csv")
    cmp.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME",
        help="a metric to plot (repeat; default losses and monitor)",
    )
    sync = sub.add_parser("sync", help="send a run's MLflow spool (offline or a server that was away)")
    sync.add_argument("run_dir", metavar="RUN_DIR")
    sync.add_argument("--mlflow-uri", default=None, help="another tracking URI than the one the run used")


def _table(title: str, columns: list[tuple[str, str]], wrap: tuple[str, ...] = ()) -> Any:
    """A rich table; at 80 columns only the ``wrap`` columns (all: none named) fold."""
    from rich.table import Table

    # no rules, two spaces between columns: at 80 columns the run names keep their width
    table = Table(title=title, title_justify="left", box=None, padding=(0, 1), title_style="bold")
    for i, (name, justify) in enumerate(columns):
        fold = not wrap or name in wrap
        table.add_column(
            name,
            justify=justify,  # type: ignore[arg-type]
            overflow="fold",
            no_wrap=not fold,
            min_width=13 if i == 0 and wrap else None,
            max_width=8 if wrap and i > 0 and fold else None,  # "val/acc" over "0.9000"
        )
    return table


def _mlflow_runs(args: argparse.Namespace, names: list[str] | None) -> list[Any]:
    """The runs of ``--experiment`` at ``--mlflow-uri`` (one line when it does not answer)."""
    from litrain.errors import ConfigError
    from litrain.launch.mlflow_reach import answers, is_http

    if not args.experiment:
        raise ConfigError("--mlflow-uri needs --experiment NAME")
    if is_http(args.mlflow_uri) and (why := answers(args.mlflow_uri)) is not None:
        raise ConfigError(f"no MLflow server answers at {args.mlflow_uri} ({why})")
    from litrain.run.catalog_mlflow import experiment_runs

    return experiment_runs(args.mlflow_uri, args.experiment, names)


def list_runs(args: argparse.Namespace) -> int:
    from rich.console import Console

    from litrain.run.catalog import best_text, find_runs, fmt, wall_text

    if args.mlflow_uri:
        runs, where = _mlflow_runs(args, None), f"MLflow experiment {args.experiment}"
    else:
        runs, where = find_runs(Path(args.dir)), args.dir
    if not runs:
        print(f"no runs in {where}")
        return 0
    table = _table(
        f"runs in {where}",
        [("name", "left"), ("task", "left"), ("engine", "left"), ("status", "left"),
         ("best", "left"), ("epochs", "right"), ("wall", "right")],
        wrap=("name", "best"),
    )  # fmt: skip
    for r in runs:
        table.add_row(
            r.name,
            r.task,
            r.engine,
            r.status,
            best_text(r),
            fmt(r.summary.get("epochs")),
            wall_text(r.summary.get("wall_time_s")),
        )
    Console().print(table)
    return 0


def compare(args: argparse.Namespace) -> int:
    from rich.console import Console

    from litrain.errors import ConfigError
    from litrain.run.catalog import differing_keys, fmt, read_run

    paths, plot, metrics = args.runs, args.plot, args.metric
    if len(paths) < 2:
        raise ConfigError("runs compare needs two or more runs")
    if args.mlflow_uri:
        runs = _mlflow_runs(args, paths)
    else:
        runs = [read_run(Path(p), Path(p).name) for p in paths]
    if len({r.name for r in runs}) < len(runs):  # same leaf names: tell them apart by path
        for r, p in zip(runs, paths, strict=True):
            r.name = p
    console = Console()
    names = [("key", "left")] + [(r.name, "left") for r in runs]
    diff = differing_keys(runs)
    table = _table("config keys that differ" if diff else "config: the same in every run", names)
    for key, values in diff:
        table.add_row(key, *[fmt(v) for v in values])
    console.print(table)
    for title, pick in (("final metrics", "final_metrics"), ("best metrics", "best_metrics")):
        per_run = [getattr(r, pick) for r in runs]
        keys = sorted(set().union(*per_run))
        if not keys:
            continue
        if pick == "best_metrics":  # at which epoch each run's best checkpoint was
            title += " (best epoch: " + ", ".join(fmt(r.summary.get("best_epoch")) or "?" for r in runs) + ")"
        table = _table(title, [("metric", "left")] + [(r.name, "right") for r in runs])
        for key in keys:
            table.add_row(key, *[fmt(m.get(key)) for m in per_run])
        console.print(table)
    if plot:
        from litrain.run.compare_plot import plot_runs

        drawn = plot_runs(runs, Path(plot), metrics or None)
        print(f"plot: {plot} ({', '.join(drawn)})")
    return 0


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    if args.action == "list":
        return list_runs(args)
    if args.action == "compare":
        return compare(args)
    from litrain.run.loggers.mlflow_log import sync

    print(f"synced {args.run_dir} to MLflow run {sync(Path(args.run_dir), args.mlflow_uri)}")
    return 0


COMMAND = Command(
    name="runs",
    help="runs list [DIR] | runs compare RUN RUN ... [--plot FILE.png] | runs sync RUN_DIR "
    "(--mlflow-uri URI --experiment NAME: an MLflow experiment's runs)",
    arguments=arguments,
    run=run,
    reads_config=False,
)
