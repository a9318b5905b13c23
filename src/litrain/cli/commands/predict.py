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
    p.add_argument(
        "--mc-samples",
        type=int,
        default=None,
        metavar="K",
        help="MC dropout: the mean of K passes with dropout on, plus uncertainty columns",
    )


ARTEFACTS = (".onnx", ".pt2")


def artefact(overrides: dict[str, Any]) -> str | None:
    """``--model FILE.onnx|.pt2`` (the model.name flag naming a file of ``litrain export``,
    which no model name ends with): the artefact to run instead of a checkpoint."""
    name = overrides.get("model.name")
    return name if isinstance(name, str) and name.endswith(ARTEFACTS) else None


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    from litrain.errors import ConfigError

    if args.mc_samples is not None and args.mc_samples < 2:
        raise ConfigError(f"--mc-samples {args.mc_samples}: MC dropout needs 2 or more passes (e.g. 30)")
    model = artefact(overrides)
    if model is None:
        return preflight.evaluated(args, overrides)
    from pathlib import Path

    if args.mc_samples is not None:
        raise ConfigError("--mc-samples runs the checkpoint's model with dropout on: drop --model")

    if not Path(model).is_file():
        raise ConfigError(f"--model {model}: no such file (an .onnx or .pt2 written by litrain export)")
    return None


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api
    from litrain.cli.report import print_metrics

    model = artefact(overrides)
    if model is not None:
        overrides = {k: v for k, v in overrides.items() if k != "model.name"}

    result = api.predict(
        args.config or None,
        checkpoint=args.ckpt,
        output=args.output,
        split=args.split,
        mc_samples=args.mc_samples,
        run_dir=args.run_dir,
        quiet=args.quiet,
        model=model,
        **overrides,
    )
    print_metrics(result, args.quiet, "predict", checkpoint="checkpoint")
    return 0


COMMAND = Command(
    name="predict",
    help="write predictions.csv with per-class probabilities",
    arguments=arguments,
    check=check,
    run=run,
)
