"""What every trained model offers after fit, whatever it is made of (one run now; an
ensemble or a calibrated model later, each an ``nn.Module`` so Lightning's test loop, ONNX
export and ``litrain.load`` see them unchanged)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from torch import Tensor

from litrain.tasks.base import Task


@runtime_checkable
class Predictor(Protocol):
    """``forward(x)`` takes the model's input (what the data module's batches hold);
    ``outputs(x)`` and ``predict(x)`` take raw inputs as the data source reads them."""

    @property
    def card(self) -> dict[str, Any] | None: ...

    @property
    def task(self) -> Task | None: ...

    def outputs(self, inputs: Any) -> Tensor:
        """The model's raw outputs (logits, normalized regression values) for raw inputs."""
        ...

    def predict(self, inputs: Any) -> Tensor:
        """The task's predictions (class probabilities, values in the targets' units)."""
        ...

    def __call__(self, x: Any) -> Any: ...
