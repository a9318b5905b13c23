"""``litrain shard``: write a data source's splits as WebDataset tar shards (or LitData
chunks) to a directory or an fsspec URL."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    add_run_dir(p)
    p.add_argument(
        "--output", required=True, metavar="DIR|URL", help="local dir, s3://bucket/prefix or any fsspec URL"
    )
    p.add_argument(
        "--format", default="webdataset", help="webdataset (tar shards) or litdata (LitData's optimize)"
    )
    p.add_argument(
        "--shard-size", type=int, default=None, metavar="N", help="samples per shard (default 10000)"
    )
    p.add_argument(
        "--max-shard-bytes", type=int, default=None, metavar="B", help="start a new shard before this size"
    )
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality when re-encoding (default 95)")
    p.add_argument("--workers", type=int, default=0, help="encoding processes (default 0: this one)")
    p.add_argument(
        "--upload-only",
        action="store_true",
        help="upload the shard dir --data-dir to --output, checked against its index",
    )


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    preflight.load(args.config, overrides)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    results = api.shard(
        args.config or None,
        output=args.output,
        format=args.format,
        shard_size=args.shard_size,
        max_shard_bytes=args.max_shard_bytes,
        quality=args.quality,
        workers=args.workers,
        upload_only=args.upload_only,
        **overrides,
    )
    for split, r in results.items():
        if not args.quiet:
            kept = len(r.index.shards) - len(r.written)
            print(
                f"{split}: {r.index.total_samples} samples in {len(r.index.shards)} shards ({len(r.written)} written, {kept} kept)"
            )
    print(args.output)
    return 0


COMMAND = Command(
    name="shard",
    help="write a source's splits as WebDataset tar shards (or LitData) to a dir or s3:// URL",
    arguments=arguments,
    check=check,
    run=run,
)
