"""int8 on the CPU: ONNX Runtime static quantization of an fp32 ONNX model, QDQ format,
weights int8 per output channel, activations uint8 with ranges calibrated on training
batches (MinMax)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from torch import Tensor

from litrain.export.onnx_build import needs_onnx
from litrain.export.source import INPUT_NAME


def ort_static_int8(model_bytes: bytes, calibration: list[Tensor]) -> bytes:
    """The QDQ int8 model of ``model_bytes`` calibrated on ``calibration`` batches."""
    needs_onnx()
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.batches, None)
            return None if x is None else {INPUT_NAME: x.numpy()}

    with tempfile.TemporaryDirectory(prefix="litrain-int8-") as tmp:
        fp32, prep, int8 = (Path(tmp) / n for n in ("fp32.onnx", "prep.onnx", "int8.onnx"))
        fp32.write_bytes(model_bytes)
        quant_pre_process(str(fp32), str(prep), skip_symbolic_shape=True)
        quantize_static(
            str(prep),
            str(int8),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
        )
        return int8.read_bytes()
