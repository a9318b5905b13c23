"""The numeric gate an artefact passes before it is kept: its outputs against the PyTorch
model's on held-out inputs (max abs / rel difference, a tolerance per dtype), then on the
validation split the task's decision agreement and the change of its metrics (the monitored
one, e.g. accuracy or NRMSE, and for classifiers the ECE)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from litrain.errors import LitrainError
from litrain.export.options import TOLERANCES, ExportOptions

ECE = "val/ece"


class GateFailed(LitrainError):
    """An artefact's numbers differ from the PyTorch model's beyond the bounds."""


@dataclass
class HeldOut:
    """Model-input batches and their targets (None: the card's example input, no data)."""

    batches: list[Tensor]
    targets: Tensor | None
    source: str  # "val" or "example"

    @property
    def samples(self) -> int:
        return sum(len(b) for b in self.batches)


@dataclass
class Numbers:
    """One artefact's numbers against the PyTorch model on :class:`HeldOut` data."""

    samples: int
    data: str
    max_abs_diff: float
    max_rel_diff: float
    max_abs_reference: float = 0.0  # the largest |output| of PyTorch: the tolerance's scale
    agreement: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    reference: dict[str, float] = field(default_factory=dict)

    def delta(self, name: str) -> float | None:
        if name in self.metrics and name in self.reference:
            return self.metrics[name] - self.reference[name]
        return None


@torch.no_grad()
def outputs_of(run: Callable[[Tensor], Tensor], held: HeldOut) -> Tensor:
    return torch.cat([run(x).float().cpu() for x in held.batches])


def measure(task: Any, reference: Tensor, outputs: Tensor, held: HeldOut) -> Numbers:
    """The differences of ``outputs`` from ``reference`` (both the model's raw outputs on
    ``held``), and with targets the task's agreement and metrics of both."""
    diff = (outputs - reference).abs()
    scale = reference.abs().clamp_min(1e-6)
    numbers = Numbers(
        held.samples,
        held.source,
        float(diff.max()),
        float((diff / scale).max()),
        float(reference.abs().max()),
    )
    decide = getattr(task, "decide", None)
    if decide is not None:  # a classifier: the decisions each gives
        a, b = decide(task.prediction(reference)), decide(task.prediction(outputs))
        numbers.agreement = float((a == b).reshape(len(a), -1).all(dim=1).float().mean())
    if held.targets is not None:
        numbers.reference = task_metrics(task, reference, held.targets)
        numbers.metrics = task_metrics(task, outputs, held.targets)
    return numbers


def task_metrics(task: Any, outputs: Tensor, targets: Tensor) -> dict[str, float]:
    """The task's validation metrics (``val/acc``, ``val/auroc``, ``val/ece``, ``val/nrmse``,
    ...) of ``outputs``, scalars only."""
    import warnings

    collection = task.metrics("val/")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. AUROC of a class absent from a small split
        collection.update(task.metric_inputs(outputs), targets)
        values = collection.compute()
    return {k: float(v) for k, v in values.items() if isinstance(v, Tensor) and v.numel() == 1}


def monitored(task: Any, numbers: Numbers) -> str | None:
    """The metric the table shows: the task's monitor when it is a metric, else the first."""
    name = getattr(task, "monitor", None)
    if name in numbers.reference:
        return str(name)
    return next((k for k in numbers.reference if k != ECE), None)


def failures(task: Any, numbers: Numbers, options: ExportOptions, dtype: str | None) -> list[str]:
    """What breaks the bounds, each with its numbers; [] when the artefact passes.
    ``dtype``: the artefact's float dtype (elementwise tolerance), None for int8 (its outputs
    differ by design: agreement and metric bounds only)."""
    found = []
    if dtype is not None:
        atol, rtol = TOLERANCES[dtype]
        bound = atol + rtol * numbers.max_abs_reference  # rtol relative to the outputs' scale
        if not numbers.max_abs_diff <= bound:  # NaN fails too
            found.append(f"max abs diff {numbers.max_abs_diff:.3g} > {bound:.3g} ({dtype} tolerance)")
    if numbers.agreement is not None and numbers.agreement < options.min_agreement:
        found.append(f"decision agreement {numbers.agreement:.2%} < {options.min_agreement:.2%}")
    name = monitored(task, numbers)
    delta = numbers.delta(name) if name else None
    if options.max_metric_delta is not None and delta is not None and abs(delta) > options.max_metric_delta:
        found.append(f"|Δ{name}| {abs(delta):.4f} > {options.max_metric_delta:g}")
    ece = numbers.delta(ECE)
    if options.max_ece_delta is not None and ece is not None and abs(ece) > options.max_ece_delta:
        found.append(f"|ΔECE| {abs(ece):.4f} > {options.max_ece_delta:g}")
    return found
