"""``litrain validate``: evaluate a checkpoint on the validation split."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_ckpt, add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    add_run_dir(p)
    add_ckpt(p, "evaluate")


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api
    from litrain.cli.report import print_metrics

    result = api.validate(
        args.config or None, checkpoint=args.ckpt, run_dir=args.run_dir, quiet=args.quiet, **overrides
    )
    print_metrics(result, args.quiet, "validate metrics", checkpoint="checkpoint")
    return 0


COMMAND = Command(
    name="validate",
    help="evaluate a checkpoint on the validation split",
    arguments=arguments,
    check=preflight.evaluated,
    run=run,
)
