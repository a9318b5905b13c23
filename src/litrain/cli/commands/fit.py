"""``litrain fit``: train a model (a config file, flags, or the default digits MLP)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    add_run_dir(p)
    p.add_argument("--overwrite", action="store_true", help="replace a run already in --run-dir")
    p.add_argument(
        "--stage",
        default=None,
        metavar="NAME",
        help="train one stage of the config's stages: in RUN_DIR/NAME",
    )
    p.add_argument(
        "--resume",
        "--resume-from-checkpoint",
        dest="resume",
        default=None,
        metavar="last|PATH",
        help="resume from the run's newest checkpoint or a file",
    )


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    cfg = preflight.load(args.config, overrides)  # what api.fit builds first
    known = True  # whether cfg is the config the run will train with
    if args.stage is not None:
        cfg = preflight.stage(cfg, args.stage, overrides)
    elif args.resume and not args.config:  # the run's own config.yaml, or its checkpoint's
        saved = Path(args.run_dir or cfg.run.dir or "") / "config.yaml"
        if (args.run_dir or cfg.run.dir) and saved.is_file():
            cfg = preflight.load([saved], overrides)
        else:
            known = False
    if known:
        preflight.parts(cfg, logs=True)
        if cfg.model.ensemble is not None:  # every member's model, before the first one trains
            from litrain.config.ensemble import member_configs

            for _, member in member_configs(cfg):
                preflight.parts(member)
    preflight.hardware(cfg)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api
    from litrain.cli.report import print_found, print_metrics

    started = time.time()
    result = api.fit(
        args.config or None,
        resume=args.resume,
        overwrite=args.overwrite,
        stage=args.stage,
        run_dir=args.run_dir,
        quiet=args.quiet,
        **overrides,
    )
    if result.summary.get("preempted"):
        from litrain.reliability.preemption import REQUEUE_EXIT_CODE

        return REQUEUE_EXIT_CODE  # saved; a scheduler may requeue with --resume last
    if result.summary.get("status") == "nothing to train":
        print(result.summary["message"])
        return 0
    print_metrics(result, args.quiet, "final metrics")
    print_found(result, args.quiet, started)
    return 0


COMMAND = Command(
    name="fit",
    help="train a model (the default: digits, an MLP, offline)",
    arguments=arguments,
    check=check,
    run=run,
)
