"""``litrain export``: a trained run as a file of the EXPORTS registry: safetensors (weights),
onnx or pt2 (a graph that runs without litrain, kept only after the numeric gate passes)."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli import preflight
from litrain.cli.parser import add_ckpt, add_run_dir
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    from litrain.export.options import INT8_METHODS
    from litrain.registry import EXPORTS

    add_run_dir(p)
    p.add_argument(
        "--format",
        default="safetensors",
        choices=EXPORTS.names(),
        help="safetensors: weights only; onnx / pt2: a graph checked against the PyTorch model",
    )
    add_ckpt(p, "export")
    p.add_argument("--output", default=None, help="file (default: beside the checkpoint)")
    gated = p.add_argument_group("onnx and pt2")
    gated.add_argument(
        "--int8",
        default=None,
        choices=INT8_METHODS,
        help="int8 on the CPU: ort-static (onnx) or torchao (pt2)",
    )
    gated.add_argument("--legacy-onnx", action="store_true", help="the TorchScript ONNX exporter")
    gated.add_argument(
        "--keep-failed", action="store_true", help="keep an artefact that fails the gate, named FAILED"
    )
    gated.add_argument("--min-agreement", type=float, default=0.99, help="decision agreement bound [0.99]")
    gated.add_argument("--max-metric-delta", type=float, default=None, help="bound on |Δ monitored metric|")
    gated.add_argument("--max-ece-delta", type=float, default=None, help="bound on |ΔECE|")
    gated.add_argument(
        "--calibration-batches", type=int, default=8, help="training batches int8 calibrates on"
    )
    gated.add_argument("--no-latency", action="store_true", help="skip the bs1/bs64 latency measurement")


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The gated formats' options (litrain.export.options.ExportOptions) from the flags."""
    return {
        "int8": args.int8,
        "legacy_onnx": args.legacy_onnx,
        "keep_failed": args.keep_failed,
        "min_agreement": args.min_agreement,
        "max_metric_delta": args.max_metric_delta,
        "max_ece_delta": args.max_ece_delta,
        "calibration_batches": args.calibration_batches,
        "latency": not args.no_latency,
    }


def check(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    from litrain.errors import ConfigError
    from litrain.export.options import ExportOptions, format_refusal

    preflight.run_dir_exists(args.run_dir, args.ckpt)
    ExportOptions(**options(args))  # bounds checked before torch is imported
    refusal = format_refusal(args.format, args.int8, args.legacy_onnx)
    if refusal:
        raise ConfigError(refusal)


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    opts = options(args) if args.format != "safetensors" else {}
    print(api.export(args.ckpt, run_dir=args.run_dir, output=args.output, format=args.format, **opts))
    return 0


COMMAND = Command(
    name="export",
    help="export a trained run (--format safetensors | onnx | pt2, gated against PyTorch)",
    arguments=arguments,
    check=check,
    run=run,
    reads_config=False,  # the run's own config.yaml, not flags
)
