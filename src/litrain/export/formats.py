"""The gated formats of the EXPORTS registry: ONNX (``torch.onnx.export(dynamo=True)``,
optionally int8 through ONNX Runtime) and the AOTInductor package (.pt2)."""

from __future__ import annotations

from pathlib import Path

from litrain.export.options import ExportOptions


def export_onnx(
    checkpoint: str = "best",
    run_dir: str | Path | None = None,
    output: str | Path | None = None,
    options: ExportOptions | None = None,
) -> Path:
    from litrain.export.build import export_format

    return export_format("onnx", checkpoint, run_dir, output, options or ExportOptions())


def export_pt2(
    checkpoint: str = "best",
    run_dir: str | Path | None = None,
    output: str | Path | None = None,
    options: ExportOptions | None = None,
) -> Path:
    from litrain.export.build import export_format

    return export_format("pt2", checkpoint, run_dir, output, options or ExportOptions())
