"""What ``litrain export`` may be asked besides the format: the gate's bounds, int8, the
legacy ONNX exporter, keeping a failed artefact. No torch: the CLI builds it before import."""

from __future__ import annotations

from dataclasses import dataclass

from litrain.errors import ConfigError

INT8_METHODS = ("ort-static", "torchao")
# the format each int8 method builds: ONNX Runtime quantizes an ONNX model, torchao's pt2e
# quantizer a torch.export graph (saved as an ExportedProgram .pt2)
INT8_FORMAT = {"ort-static": "onnx", "torchao": "pt2"}

# (atol, rtol) of the gate's elementwise check per artefact dtype: a float32 graph differs
# from eager only by kernel order and fused ops (~1e-6 on logits of order 10)
TOLERANCES = {"float32": (1e-4, 1e-4), "float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2)}


@dataclass(frozen=True)
class ExportOptions:
    """``int8``: a method of :data:`INT8_METHODS` (for its :data:`INT8_FORMAT`) or None. ``min_agreement``:
    the fraction of validation samples whose decision (the predicted class) must match the
    PyTorch model's. ``max_metric_delta`` / ``max_ece_delta``: bounds on |Δ| of the task's
    monitored metric and of the ECE (None: reported, not enforced). ``calibration_batches``:
    training batches int8 calibrates its activation ranges on. ``latency``: measure bs1/bs64.
    ``quiet``: no table, no notes."""

    legacy_onnx: bool = False
    int8: str | None = None
    keep_failed: bool = False
    min_agreement: float = 0.99
    max_metric_delta: float | None = None
    max_ece_delta: float | None = None
    calibration_batches: int = 8
    latency: bool = True
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.int8 is not None and self.int8 not in INT8_METHODS:
            raise ConfigError(f"--int8 {self.int8}: choose one of {', '.join(INT8_METHODS)}")
        if not 0.0 <= self.min_agreement <= 1.0:
            raise ConfigError(f"--min-agreement {self.min_agreement}: give a fraction in [0, 1], e.g. 0.99")
        for name in ("max_metric_delta", "max_ece_delta"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"--{name.replace('_', '-')} {value}: give a bound >= 0")
        if self.calibration_batches < 1:
            raise ConfigError("--calibration-batches: give at least 1")


def format_refusal(fmt: str, int8: str | None, legacy_onnx: bool) -> str | None:
    """Why ``--format fmt`` cannot take ``--int8`` / ``--legacy-onnx`` (None: it can)."""
    if int8 is not None and INT8_FORMAT.get(int8) != fmt:
        built = "an ONNX model" if INT8_FORMAT.get(int8) == "onnx" else "a torch.export graph (.pt2)"
        return f"--int8 {int8} builds {built}: use --format {INT8_FORMAT.get(int8)}"
    if legacy_onnx and fmt != "onnx":
        return "--legacy-onnx is an ONNX exporter: use --format onnx"
    return None
