"""``litrain calibrate``: fit temperature scaling for a classification run on its validation
split; ``litrain.load`` then gives the calibrated model."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli.parser import add_ckpt
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run dir of a classification run")
    add_ckpt(p, "calibrate")


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    from pathlib import Path

    from litrain.errors import ConfigError

    if not Path(args.run).is_dir():
        raise ConfigError(f"litrain calibrate: {args.run} is not a directory: pass a run dir")


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    record = api.calibrate(args.run, checkpoint=args.ckpt)
    temps = ", ".join(f"{t:.4g}" for t in _flat(record["temperature"]))
    print(
        f"temperature {temps}: val NLL {record['val_nll_before']:.4f} -> {record['val_nll_after']:.4f}, "
        f"ECE {record['val_ece_before']:.4f} -> {record['val_ece_after']:.4f} "
        f"({record['val_samples']} samples); wrote {record['path']}"
    )
    return 0


def _flat(value: Any) -> list[float]:
    return [float(v) for v in value] if isinstance(value, list) else [float(value)]


COMMAND = Command(
    name="calibrate",
    help="fit temperature scaling on a classification run's validation split",
    arguments=arguments,
    check=check,
    run=run,
    reads_config=False,
)
