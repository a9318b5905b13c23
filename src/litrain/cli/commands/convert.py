"""``litrain convert``: a checkpoint in another format (either engine resumes from it), or a
sharded FSDP checkpoint merged into one file."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    from litrain.checkpoint import CONVERT_TARGETS

    p.add_argument("ckpt", metavar="CKPT", help="checkpoint: Lightning, native or .safetensors")
    p.add_argument("--to", default=None, choices=list(CONVERT_TARGETS), help="format to write")
    p.add_argument(
        "--consolidate",
        action="store_true",
        help="merge a sharded (FSDP, .distcp) checkpoint directory into one file",
    )
    p.add_argument("out", metavar="OUT", help="file to write")


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from litrain.errors import ConfigError

    if args.consolidate:
        from litrain.checkpoint.fsdp import consolidate  # no Lightning import

        print(consolidate(args.ckpt, args.out))
        return 0
    if args.to is None:
        raise ConfigError("convert needs --to native|lightning|safetensors (or --consolidate)")
    from litrain.checkpoint.convert import convert

    print(convert(args.ckpt, args.to, args.out))
    return 0


COMMAND = Command(
    name="convert",
    help="convert CKPT --to native|lightning|safetensors OUT (either engine resumes)",
    arguments=arguments,
    run=run,
    reads_config=False,
)
