"""``litrain pipeline``: train the stages of CONFIG in order, each from an earlier one's
weights, into one directory; rerun to continue."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="YAML config(s) with stages:")
    add_run_dir(p)
    p.add_argument("--overwrite", action="store_true", help="start the pipeline in --run-dir over")
    p.add_argument(
        "--resume",
        default=None,
        choices=["last"],
        help="continue the newest pipeline under runs/<name>/ (a --run-dir is always continued)",
    )


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    cfg = preflight.load(list(args.configs) + list(args.config), overrides)
    for stage in cfg.stages:  # what each stage will build
        preflight.parts(preflight.stage(cfg, stage.name, overrides), logs=True)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api
    from litrain.cli.report import print_pipeline

    result = api.pipeline(
        list(args.configs) + list(args.config) or None,
        run_dir=args.run_dir,
        resume=args.resume,
        overwrite=args.overwrite,
        quiet=args.quiet,
        **overrides,
    )
    from litrain.launch.environment import is_global_zero

    if is_global_zero():
        print_pipeline(result.summary, args.quiet)
    if result.preempted:
        from litrain.reliability.preemption import REQUEUE_EXIT_CODE

        return REQUEUE_EXIT_CODE  # saved; rerun the same command to continue
    return 0


COMMAND = Command(
    name="pipeline",
    help="train the stages of CONFIG in order, each from an earlier one's weights (resumable)",
    arguments=arguments,
    check=check,
    run=run,
)
