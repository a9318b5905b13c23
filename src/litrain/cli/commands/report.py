"""``litrain report RUN [RUN ...]``: one offline HTML page for a run, or a comparison page
for several (docs/report.md)."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run dir(s) written by `litrain fit`")
    p.add_argument(
        "--output", default=None, metavar="FILE", help="default: RUN/report.html; several runs: ./report.html"
    )


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    from litrain.report.read import open_run

    for run in args.runs:  # every dir is a run, before anything is written
        open_run(run)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    print(api.report(*args.runs, output=args.output))
    return 0


COMMAND = Command(
    name="report",
    help="one offline HTML page for RUN (several runs: a comparison page)",
    arguments=arguments,
    check=check,
    run=run,
    reads_config=False,
)
