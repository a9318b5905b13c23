"""int8 through PyTorch: torchao's pt2e post-training quantization of a strict
``torch.export`` capture (X86InductorQuantizer: weights int8 per output channel, activations
uint8 per tensor, ranges calibrated on training batches), saved as an ExportedProgram
(``torch.export.save``, a .pt2 archive) with litrain's metadata as extra files.

The graph keeps quantize/dequantize ops around float kernels (the reference
representation): it is not compiled by AOTInductor, whose lowering of the quantized graph
takes minutes on a small CPU. ``torch.export.load`` runs it with torch alone, after
``import torch.ao.quantization.fx._decomposed`` registers the quantize/dequantize ops."""

from __future__ import annotations

import logging
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import Tensor, nn

from litrain.errors import ConfigError
from litrain.export.onnx_build import cannot_export

EXTRA_DIR = "/extra/"  # where torch.export.save puts extra_files inside the archive


def needs_torchao() -> None:
    """The one line a missing torchao gets: the extra that installs it."""
    try:
        with _quiet():
            import torchao.quantization.pt2e.quantize_pt2e  # noqa: F401
    except ImportError as exc:
        package = (exc.name or "torchao").split(".")[0]  # the distribution, not a submodule
        raise ConfigError(
            f"--int8 torchao needs {package}, which is not installed: pip install 'litrain[export]'"
        ) from None


def torchao_int8(
    module: nn.Module, example: Tensor, calibration: list[Tensor], path: Path, metadata: dict[str, str]
) -> Path:
    """Quantize ``module`` (calibrated on ``calibration``) and save it to ``path``."""
    needs_torchao()
    with _quiet():
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as x86

    dynamic = ({0: torch.export.Dim("batch", min=1)},)
    with torch.no_grad(), _quiet():
        try:
            captured = torch.export.export(module, (example,), dynamic_shapes=dynamic, strict=True).module()
        except Exception as exc:  # torch.export's errors are many types; all mean "cannot capture"
            raise ConfigError(cannot_export(exc, "pt2")) from None
        quantizer = x86.X86InductorQuantizer().set_global(x86.get_default_x86_inductor_quantization_config())
        try:
            prepared = prepare_pt2e(captured, quantizer)  # type: ignore[arg-type]
            for x in calibration:
                prepared(x)
            converted = convert_pt2e(prepared)
            _drop_unused(converted)
            program = torch.export.export(converted, (example,), dynamic_shapes=dynamic, strict=True)
        except Exception as exc:  # torchao's passes raise many types; all mean "cannot quantize"
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise ConfigError(
                f"--int8 torchao: torchao's pt2e quantization failed on this model "
                f"({type(exc).__name__}: {first}): try --format onnx --int8 ort-static"
            ) from None
        torch.export.save(program, str(path), extra_files=dict(metadata))
    return path


def _drop_unused(graph_module: torch.fx.GraphModule) -> None:
    """Remove the float weights the converted graph no longer reads (it reads their int8
    copies), so the saved file holds the int8 ones only."""
    used = {n.target for n in graph_module.graph.nodes if n.op == "get_attr"}
    names = [n for n, _ in graph_module.named_parameters()] + [n for n, _ in graph_module.named_buffers()]
    for name in names:
        if name not in used:
            owner, _, attr = name.rpartition(".")
            delattr(graph_module.get_submodule(owner) if owner else graph_module, attr)


def is_exported_program(path: Path) -> bool:
    """A torch.export.save archive (not an AOTInductor package, which holds compiled code)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False  # not an archive: the AOTInductor loader says what is wrong
    return not any("/data/aotinductor/" in n for n in names) and any(
        n.endswith("/models/model.json") for n in names
    )


def load_exported(path: Path) -> tuple[nn.Module, dict[str, str]]:
    """(the module that runs the saved program, litrain's metadata)."""
    with zipfile.ZipFile(path) as z:
        keys = [n.rpartition(EXTRA_DIR)[2] for n in z.namelist() if EXTRA_DIR in n]
    extra = {k: "" for k in keys if k.startswith("litrain_")}
    with _quiet():
        import torch.ao.quantization.fx._decomposed  # registers the q/dq ops

        program = torch.export.load(str(path), extra_files=extra)
    return program.module(), extra


@contextmanager
def _quiet() -> Iterator[None]:
    """torchao's import and torch.export warn about internals (pytree registrations,
    deprecations) that are not the user's to act on."""
    loggers = [logging.getLogger(n) for n in ("torch.utils._pytree", "torch._dynamo", "torch.export")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
