"""``litrain tune lr``: run the learning-rate finder alone and save a config with its lr."""

from __future__ import annotations

import argparse
import time
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["lr"], help="what to tune")
    add_run_dir(p)
    p.add_argument("--overwrite", action="store_true", help="replace a run already in --run-dir")


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    cfg = preflight.load(args.config, overrides)
    preflight.parts(cfg)
    preflight.hardware(cfg)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api
    from litrain.cli.report import print_found, print_metrics

    started = time.time()
    result = api.tune_lr(
        args.config or None, overwrite=args.overwrite, run_dir=args.run_dir, quiet=args.quiet, **overrides
    )
    print_metrics(result, args.quiet, "suggested learning rate")
    print_found(result, args.quiet, started, tuned=True)
    return 0


COMMAND = Command(
    name="tune",
    help="tune lr: run the learning-rate finder",
    arguments=arguments,
    check=check,
    run=run,
)
