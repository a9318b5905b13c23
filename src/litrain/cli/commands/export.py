"""``litrain export``: a checkpoint's weights in a format of the EXPORTS registry."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_ckpt, add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    from litrain.registry import EXPORTS

    add_run_dir(p)
    p.add_argument("--format", default="safetensors", choices=EXPORTS.names(), help="weights only, no pickle")
    add_ckpt(p, "export")
    p.add_argument("--output", default=None, help="file (default: beside the checkpoint)")


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    preflight.run_dir_exists(args.run_dir, args.ckpt)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    print(api.export(args.ckpt, run_dir=args.run_dir, output=args.output, format=args.format))
    return 0


COMMAND = Command(
    name="export",
    help="export a checkpoint's weights (--format safetensors)",
    arguments=arguments,
    check=check,
    run=run,
    reads_config=False,  # the run's own config.yaml, not flags
)
