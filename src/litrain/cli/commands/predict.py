"""``litrain predict``: write the task's predictions of a checkpoint on a split."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_ckpt, add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    add_run_dir(p)
    add_ckpt(p, "evaluate")
    p.add_argument("--output", default=None, help="CSV path (default run_dir/predictions.csv; fields: .npy)")
    p.add_argument("--split", default="test", choices=["test", "val"], help="split to predict")


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api
    from litrain.cli.report import print_metrics

    result = api.predict(
        args.config or None,
        checkpoint=args.ckpt,
        output=args.output,
        split=args.split,
        run_dir=args.run_dir,
        quiet=args.quiet,
        **overrides,
    )
    print_metrics(result, args.quiet, "predict", checkpoint="checkpoint")
    return 0


COMMAND = Command(
    name="predict",
    help="write predictions.csv with per-class probabilities",
    arguments=arguments,
    check=preflight.evaluated,
    run=run,
)
