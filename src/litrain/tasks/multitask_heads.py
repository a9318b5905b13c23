"""One head of a multi-task model: its columns of the outputs and of the packed targets,
its loss, probabilities and metrics. ``litrain.tasks.multitask`` holds one per head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torchmetrics as tm
from torch import Tensor

from litrain.config.schema import HeadConfig
from litrain.tasks.calibration_metrics import calibration_metrics


@dataclass
class Head:
    name: str
    cfg: HeadConfig  # resolved: num_classes and loss filled in
    out: slice  # columns of the model's outputs
    cols: slice  # columns of the packed targets
    loss_fn: Any

    @property
    def kind(self) -> str:
        return self.cfg.type

    @property
    def is_classifier(self) -> bool:
        return self.kind != "regression"

    def outputs(self, outputs: Tensor) -> Tensor:
        return outputs[:, self.out].float()

    def target(self, y: Tensor) -> Tensor:
        """What this head's loss takes: class indices (classification), 0/1 floats (binary
        (N,), multilabel (N, K)) or the real values (regression, (N, K))."""
        t = y[:, self.cols]
        if self.kind == "classification":
            return t[:, 0].long()
        return t[:, 0] if self.kind == "binary" else t.float()

    def loss(self, outputs: Tensor, y: Tensor) -> Tensor:
        return self.loss_fn(self.outputs(outputs), self.target(y))

    def probs(self, outputs: Tensor) -> Tensor:
        """Class probabilities (N, C); binary (N, 2) = [p(0), p(1)]; regression: the values."""
        logits = self.outputs(outputs)
        if self.kind == "classification":
            return logits.softmax(-1)
        if self.kind == "regression":
            return logits
        p = logits.sigmoid()
        return torch.cat([1 - p, p], dim=1) if self.kind == "binary" else p

    def view(self, what: str, outputs: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """(preds, target) for one of this head's metrics."""
        p = self.probs(outputs)
        t = y[:, self.cols]
        if what == "values":  # regression: every column of every sample
            return p.flatten(), t.float().flatten()
        if what == "p1":  # binary metrics of torchmetrics: p(1) and 0/1 labels
            return p[:, 1], t[:, 0].long()
        return p, (t.long() if self.kind == "multilabel" else t[:, 0].long())

    def metrics(self) -> dict[str, tm.Metric]:
        """acc, balanced_acc, f1 (macro), auroc for classification heads (binary: the
        two-class form for acc and balanced_acc, positive-class f1 and auroc; multilabel: per
        (sample, label) acc, macro f1 and auroc); mse and mae for regression heads."""
        if self.kind == "regression":
            return {
                "mse": _m(tm.MeanSquaredError(), self, "values"),
                "mae": _m(tm.MeanAbsoluteError(), self, "values"),
            }
        if self.kind == "multilabel":
            kw: dict[str, Any] = {"task": "multilabel", "num_labels": self.cfg.num_classes}
            return {
                "acc": _m(tm.Accuracy(**kw, average="micro"), self),
                "balanced_acc": _m(tm.Accuracy(**kw, average="macro"), self),
                "f1": _m(tm.F1Score(**kw, average="macro"), self),
                "auroc": _m(tm.AUROC(**kw, average="macro"), self),
            } | self.calibration()
        classes = 2 if self.kind == "binary" else self.cfg.num_classes
        kw = {"task": "multiclass", "num_classes": classes}
        metrics = {
            "acc": _m(tm.Accuracy(**kw, average="micro"), self),
            # macro accuracy = the mean of per-class recalls = balanced accuracy
            "balanced_acc": _m(tm.Accuracy(**kw, average="macro"), self),
        }
        if self.kind == "binary":
            metrics["f1"] = _m(tm.F1Score(task="binary"), self, "p1")
            metrics["auroc"] = _m(tm.AUROC(task="binary"), self, "p1")
        else:
            metrics["f1"] = _m(tm.F1Score(**kw, average="macro"), self)
            metrics["auroc"] = _m(tm.AUROC(**kw, average="macro"), self)
        return metrics | self.calibration()

    def calibration(self) -> dict[str, tm.Metric]:
        """nll, brier, ece, mce of a classification head, in the single-task form."""
        mode = "multiclass" if self.kind == "classification" else self.kind
        what = "p1" if self.kind == "binary" else "probs"
        return {k: _m(m, self, what) for k, m in calibration_metrics(mode).items()}


def _m(metric: tm.Metric, head: Head, what: str = "probs") -> HeadMetric:
    return HeadMetric(metric, head, what)


class HeadMetric(tm.Metric):
    """A torchmetrics metric fed one head's columns of the full outputs and targets. The inner
    metric holds (and under DDP syncs) the state."""

    full_state_update = False

    def __init__(self, metric: tm.Metric, head: Head, what: str = "probs") -> None:
        super().__init__()
        self.metric, self.head, self.what = metric, head, what

    def update(self, outputs: Tensor, y: Tensor) -> None:
        self.metric.update(*self.head.view(self.what, outputs, y))

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
