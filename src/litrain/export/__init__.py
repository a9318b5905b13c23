"""Exports of a trained run, one module per format, registered here by name in
:data:`litrain.registry.EXPORTS` (``litrain export --format NAME``, ``litrain.export``).

An entry is ``(checkpoint, run_dir, output, options) -> Path`` (``options`` an
:class:`~litrain.export.options.ExportOptions`): ``checkpoint`` is ``best``, ``last``
or a file, ``run_dir`` the run it belongs to (or None), ``output`` the file to write (None:
beside the checkpoint). This file imports no torch: listing the formats stays cheap."""

from __future__ import annotations

from litrain.registry import EXPORTS

EXPORTS.register("safetensors", "litrain.export.safetensors:export_safetensors")
EXPORTS.register("onnx", "litrain.export.formats:export_onnx")
EXPORTS.register("pt2", "litrain.export.formats:export_pt2")
