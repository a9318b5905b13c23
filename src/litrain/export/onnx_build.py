"""A module -> ONNX bytes with a dynamic batch axis and litrain's metadata, through
``torch.onnx.export(dynamo=True)`` (torch.export underneath), or the legacy TorchScript
exporter when asked (``--legacy-onnx``). A model torch.export cannot capture is refused in
one line naming the failing operation."""

from __future__ import annotations

import io
import re
import warnings
from typing import Any

import torch
from torch import Tensor, nn

from litrain.errors import ConfigError
from litrain.export.source import INPUT_NAME

OPSET = 18


def needs_onnx() -> None:
    """The one line a missing onnx/onnxruntime gets: the extra that installs them."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"ONNX export needs {exc.name}, which is not installed: pip install 'litrain[export]'"
        ) from None


def to_onnx(
    module: nn.Module, example: Tensor, output_names: list[str], legacy: bool, quiet: bool = False
) -> bytes:
    """The serialized ONNX model of ``module`` traced on ``example`` (batch axis dynamic)."""
    needs_onnx()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if legacy:
            return _legacy(module, example, output_names, quiet)
        try:
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=output_names,
                dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
                opset_version=OPSET,
                verbose=False,
            )
        except Exception as exc:  # torch.export's errors are many types; all mean "cannot capture"
            raise ConfigError(cannot_export(exc, "onnx")) from None
    assert program is not None
    return program.model_proto.SerializeToString()


def _legacy(module: nn.Module, example: Tensor, output_names: list[str], quiet: bool) -> bytes:
    if not quiet:
        print(
            "litrain: --legacy-onnx: the TorchScript exporter traces one example, so a "
            "data-dependent branch is frozen as that example took it; the gate below checks "
            "the result on real data"
        )
    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in [INPUT_NAME, *output_names]}
    torch.onnx.export(
        module,
        (example,),
        buffer,
        dynamo=False,
        input_names=[INPUT_NAME],
        output_names=output_names,
        dynamic_axes=axes,
        opset_version=OPSET,
    )
    return buffer.getvalue()


def cannot_export(exc: BaseException, fmt: str) -> str:
    """One line: what torch.export failed on, and the ways out."""
    text = str(exc)
    op = _failing_op(text) or type(exc).__name__
    legacy = "--legacy-onnx (traces one example; the branch it takes is frozen)"
    way = f"try {legacy}" if fmt == "onnx" else f"try --format onnx {legacy}"
    return (
        f"export --format {fmt}: torch.export cannot capture the model at {op} "
        f"(data-dependent control flow or an unsupported op): {way}, or write the branch with "
        "torch.where / torch.cond so torch.export (onnx and pt2) captures it"
    )


def _failing_op(text: str) -> str | None:
    """The operation torch.export names in its error (a guard on a data-dependent value,
    an unsupported op, or the user's line it stopped at)."""
    for pattern in (
        r"data-dependent expression ([^\n]+?)(?: \(|\n|$)",
        r"(aten\.[\w.]+)",
        r"Unsupported: ([^\n]+)",
    ):
        m = re.search(pattern, text)
        if m:
            found = m.group(1).strip()
            line = re.search(r'File "([^"]+)", line (\d+), in (\w+)\n\s*([^\n]+)', text)
            where = f" ({line.group(4).strip()} in {line.group(3)})" if line else ""
            return f"{found}{where}"[:200]
    line = re.search(r'File "([^"]+)", line (\d+), in (\w+)\n\s*([^\n]+)', text)
    return f"{line.group(4).strip()} in {line.group(3)}" if line else None


def with_metadata(model_bytes: bytes, metadata: dict[str, str]) -> bytes:
    """``model_bytes`` with ``metadata`` in the model's metadata_props (what onnxruntime's
    ``get_modelmeta().custom_metadata_map`` reads back)."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    props = {p.key: p.value for p in model.metadata_props}
    props.update(metadata)
    onnx.helper.set_model_props(model, props)
    return model.SerializeToString()


def session(model: bytes | str, threads: int | None = None) -> Any:
    """An onnxruntime CPU session of a model (bytes or a path)."""
    needs_onnx()
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # warnings about unused initializers are not the user's
    if threads:
        opts.intra_op_num_threads = threads
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
