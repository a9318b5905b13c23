"""One head of a multi-task model: its columns of the outputs and of the packed targets,
and the single-task task of its type over them (its loss, probabilities and metrics, so
each is written once). ``litrain.tasks.multitask`` holds one per head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torchmetrics as tm
from torch import Tensor

from litrain.config.schema import HeadConfig


@dataclass
class Head:
    name: str
    cfg: HeadConfig  # resolved: num_classes and loss filled in
    out: slice  # columns (channels, for field heads) of the model's outputs
    cols: slice  # columns of the packed targets
    task: Any  # the single-task task of this head's type: its loss, predictions and metrics
    shape: tuple[int, ...] = ()  # one sample's target: () a label or scalar, (K,), a field

    @property
    def kind(self) -> str:
        return self.cfg.type

    @property
    def is_classifier(self) -> bool:
        return self.kind != "regression"

    @property
    def is_field(self) -> bool:
        return len(self.shape) >= 2

    def outputs(self, outputs: Tensor) -> Tensor:
        return outputs[:, self.out].float()

    def target(self, y: Tensor) -> Tensor:
        """What this head's task takes: class indices (classification), 0/1 floats (binary
        (N,), multilabel (N, K)) or the real values shaped (N, *shape) (regression)."""
        t = y[:, self.cols]
        if self.kind == "classification":
            return t[:, 0].long()
        if self.kind == "binary":
            return t[:, 0]
        if self.kind == "regression":  # contiguous: torchmetrics views targets flat
            return t.float().reshape(len(t), *self.shape).contiguous()
        return t.float()

    def metric_target(self, y: Tensor) -> Tensor:
        """The targets its metrics take: integer labels for classifiers, else ``target``."""
        return self.target(y).long() if self.is_classifier else self.target(y)

    def loss(self, outputs: Tensor, y: Tensor) -> Tensor:
        return self.task.loss(self.outputs(outputs), self.target(y))

    def probs(self, outputs: Tensor) -> Tensor:
        """Per sample, flat: class probabilities (N, C) (binary (N, 2) = [p(0), p(1)]), or
        the values of a regression head."""
        p = self.task.prediction(self.outputs(outputs))
        return p.reshape(len(p), -1)

    def metrics(self) -> dict[str, tm.Metric]:
        """The metrics of the single-task task of this head's type (``ClassificationTask``:
        acc, balanced_acc, precision, recall, f1, auroc, ap, ...; ``RegressionTask``: mse,
        mae, rmse, r2, or nrmse and rel_l2 for fields), each fed this head's columns."""
        collection = self.task.metrics("")
        return {k: HeadMetric(m, self) for k, m in collection.items(keep_base=False)}


class HeadMetric(tm.Metric):
    """A torchmetrics metric fed one head's columns of the full outputs and targets. The inner
    metric holds (and under DDP syncs) the state."""

    full_state_update = False

    def __init__(self, metric: tm.Metric, head: Head) -> None:
        super().__init__()
        self.metric, self.head = metric, head

    def update(self, outputs: Tensor, y: Tensor) -> None:
        preds = self.head.task.metric_inputs(self.head.outputs(outputs))
        self.metric.update(preds, self.head.metric_target(y))

    def compute(self) -> Tensor:
        return self.metric.compute()

    def reset(self) -> None:
        self.metric.reset()
        super().reset()


class HeadLoss(tm.Metric):
    """A head's loss over a split: the sample-weighted mean of its batch losses (sums of
    floats, so under DDP it is the 1-process number)."""

    full_state_update = False

    def __init__(self, head: Head) -> None:
        super().__init__()
        self.head = head
        self.add_state("total", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, outputs: Tensor, y: Tensor) -> None:
        self.total += self.head.loss(outputs, y).detach().double() * len(y)
        self.count += len(y)

    def compute(self) -> Tensor:
        return (self.total / self.count).float()


class MeanAccuracy(tm.Metric):
    """The mean of the classification heads' accuracies (``val/mean_acc``)."""

    full_state_update = False

    def __init__(self, heads: list[Head]) -> None:
        super().__init__()
        self.accs = torch.nn.ModuleList([h.metrics()["acc"] for h in heads])

    def update(self, outputs: Tensor, y: Tensor) -> None:
        for acc in self.accs:
            acc.update(outputs, y)

    def compute(self) -> Tensor:
        return torch.stack([acc.compute().float() for acc in self.accs]).mean()

    def reset(self) -> None:
        for acc in self.accs:
            acc.reset()
        super().reset()


class MeanNRMSE(tm.Metric):
    """The mean of the field heads' nrmse (``val/mean_nrmse``), the monitor of a run of
    several PDE tasks."""

    full_state_update = False

    def __init__(self, heads: list[Head]) -> None:
        super().__init__()
        self.nrmse = torch.nn.ModuleList([h.metrics()["nrmse"] for h in heads])

    def update(self, outputs: Tensor, y: Tensor) -> None:
        for m in self.nrmse:
            m.update(outputs, y)

    def compute(self) -> Tensor:
        return torch.stack([m.compute().float() for m in self.nrmse]).mean()

    def reset(self) -> None:
        for m in self.nrmse:
            m.reset()
        super().reset()
