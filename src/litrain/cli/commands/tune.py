"""``litrain tune lr|batch-size``: run the learning-rate finder or the batch-size finder alone
and save a config with what it found."""

from __future__ import annotations

import argparse
import time
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["lr", "batch-size"], help="what to tune")
    add_run_dir(p)
    p.add_argument("--overwrite", action="store_true", help="replace a run already in --run-dir")
    p.add_argument(
        "--keep-global-batch",
        action="store_true",
        help="batch-size: keep batch x devices x accumulation, setting accumulate_grad_batches to make it up",
    )


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    cfg = preflight.load(args.config, overrides)
    preflight.parts(cfg)
    preflight.hardware(cfg)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api
    from litrain.cli.report import print_found, print_metrics

    started = time.time()
    if args.what == "batch-size":
        result = api.tune_batch_size(
            args.config or None,
            overwrite=args.overwrite,
            run_dir=args.run_dir,
            quiet=args.quiet,
            keep_global=args.keep_global_batch,
            **overrides,
        )
        cfg = result.config
        if args.quiet:
            print(result.run_dir)
        else:
            print(
                f"batch size: {cfg.data.batch_size} per device, accumulate_grad_batches "
                f"{cfg.trainer.accumulate_grad_batches}; config: {result.run_dir / 'config.yaml'}"
            )
        return 0
    result = api.tune_lr(
        args.config or None, overwrite=args.overwrite, run_dir=args.run_dir, quiet=args.quiet, **overrides
    )
    print_metrics(result, args.quiet, "suggested learning rate")
    print_found(result, args.quiet, started, tuned=True)
    return 0


COMMAND = Command(
    name="tune",
    help="tune lr|batch-size: run the learning-rate or the batch-size finder",
    arguments=arguments,
    check=check,
    run=run,
)
