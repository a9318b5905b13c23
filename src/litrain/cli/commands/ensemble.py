"""``litrain ensemble RUN_A RUN_B ... --output DIR``: one predictor from separately trained
classification runs; ``litrain.load(DIR)`` pools their class probabilities."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", metavar="RUN", nargs="+", help="run dirs of the members (two or more)")
    p.add_argument("--output", required=True, metavar="DIR", help="directory for ensemble.json")
    p.add_argument("--combine", default="mean_prob", choices=["mean_prob"], help="how to pool the members")


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    from pathlib import Path

    from litrain.errors import ConfigError

    if len(args.runs) < 2:
        raise ConfigError("litrain ensemble needs two or more run dirs")
    for run in args.runs:
        if not (Path(run) / "config.yaml").is_file():
            raise ConfigError(f"litrain ensemble: {run} holds no config.yaml: pass run dirs")


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    path = api.ensemble(args.runs, output=args.output, combine=args.combine)
    print(f"ensemble of {len(args.runs)} runs ({args.combine}): {path}")
    return 0


COMMAND = Command(
    name="ensemble",
    help="combine separately trained classification runs into one predictor",
    arguments=arguments,
    check=check,
    run=run,
    reads_config=False,
)
