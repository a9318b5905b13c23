"""An exported artefact run as a predictor: ``runner(x)`` takes a model-input batch and gives
the float32 outputs PyTorch would (a multi-task model's named head outputs joined back into
one tensor), so the gate and ``litrain predict --model`` use the same engine-neutral pass
(:func:`litrain.trained.outputs.outputs_on`) as the PyTorch model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from litrain.errors import ConfigError
from litrain.export.source import INPUT_NAME

SUFFIXES = (".onnx", ".pt2")


class ArtefactRunner:
    """``run(x)`` -> the artefact's outputs (one per head) for a model-input batch ``x``;
    ``task`` unpacks batches for :func:`outputs_on` (set by the caller)."""

    def __init__(
        self, run: Callable[[Tensor], list[Tensor]], metadata: dict[str, str], path: Path | None
    ) -> None:
        self.run = run
        self.metadata = metadata
        self.path = path
        self.task: Any = None

    def __call__(self, x: Tensor) -> Tensor:
        """The outputs the PyTorch model gives (heads joined; an ensemble's uncertainty
        outputs, listed after them, left out)."""
        outs = self.run(x.detach().to("cpu", torch.float32).contiguous())
        n = len(json.loads(self.metadata.get("litrain_outputs", "[0]")))
        return outs[0] if n == 1 else torch.cat(outs[:n], dim=1)

    def json(self, key: str) -> Any:
        """A JSON-valued metadata entry (``litrain_card``, ``litrain_config``, ...)."""
        if key not in self.metadata:
            where = self.path or "the artefact"
            raise ConfigError(f"{where} has no {key} metadata: it was not exported by litrain export")
        return json.loads(self.metadata[key])


def onnx_runner(model: bytes | str | Path, threads: int | None = None) -> ArtefactRunner:
    from litrain.export.onnx_build import session

    sess = session(str(model) if isinstance(model, Path) else model, threads)

    def run(x: Tensor) -> list[Tensor]:
        return [torch.from_numpy(np.asarray(o)).float() for o in sess.run(None, {INPUT_NAME: x.numpy()})]

    meta = dict(sess.get_modelmeta().custom_metadata_map)
    return ArtefactRunner(run, meta, Path(model) if isinstance(model, str | Path) else None)


def pt2_runner(path: str | Path) -> ArtefactRunner:
    """An AOTInductor package loaded with ``torch._inductor.aoti_load_package``, or the
    ExportedProgram ``--int8 torchao`` saves, loaded with ``torch.export.load``."""
    from litrain.export.torchao_build import is_exported_program, load_exported

    if is_exported_program(Path(path)):
        module, metadata = load_exported(Path(path))
        return ArtefactRunner(_outputs_of(module), metadata, Path(path))
    loaded = torch._inductor.aoti_load_package(str(path))
    meta = dict(loaded.get_metadata())
    return ArtefactRunner(
        _outputs_of(loaded), {k: v for k, v in meta.items() if k.startswith("litrain_")}, Path(path)
    )


def _outputs_of(loaded: Callable[[Tensor], Any]) -> Callable[[Tensor], list[Tensor]]:
    def run(x: Tensor) -> list[Tensor]:
        with torch.no_grad():
            out = loaded(x)
        return [o.float() for o in (out if isinstance(out, list | tuple) else [out])]

    return run


def open_artefact(path: str | Path) -> ArtefactRunner:
    """An exported file (.onnx with onnxruntime, .pt2 with the AOTInductor loader or, for a
    ``--int8 torchao`` program, torch.export.load)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--model {p}: no such file (an .onnx or .pt2 written by litrain export)")
    if p.suffix == ".onnx":
        return onnx_runner(p)
    if p.suffix == ".pt2":
        return pt2_runner(p)
    raise ConfigError(f"--model {p}: give an .onnx or .pt2 file written by litrain export")
