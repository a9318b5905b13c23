"""Classification: loss, probabilities and torchmetrics for multiclass, binary (one logit)
and multilabel. Both engines call these, so they compute the same numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torchmetrics as tm
from torch import Tensor

from litrain.config import TaskConfig
from litrain.data.base import DataInfo
from litrain.errors import ConfigError
from litrain.registry import LOSSES
from litrain.tasks.base import TaskBase
from litrain.tasks.calibration_metrics import calibration_metrics
from litrain.tasks.class_weights import resolve_class_weights
from litrain.tasks.losses import loss_mode
from litrain.tasks.regression_losses import REGRESSION_LOSSES


def classification_task(cfg: TaskConfig, info: DataInfo) -> ClassificationTask:
    """The task for ``task.type`` classification/binary/multilabel, sized from the data.

    Multilabel is a property of the targets: the config and the data must agree on it and,
    for multilabel data, on the number of labels."""
    if info.float_targets:
        raise ConfigError(
            f"task.type={cfg.type} needs integer class labels, but the data's targets are real "
            "numbers: set task.type regression (--set task.type=regression) to learn them"
        )
    wants_multilabel = cfg.type == "multilabel" or cfg.multilabel
    if wants_multilabel and not info.multilabel:
        raise ConfigError(
            "task.type=multilabel needs (N, K) 0/1 targets, but the data gives one class label "
            "per sample: use task.type classification (or binary)"
        )
    if info.multilabel and cfg.num_classes not in (None, info.num_classes):
        raise ConfigError(
            f"task.num_classes={cfg.num_classes} but the multilabel targets have "
            f"{info.num_classes} labels: drop task.num_classes or set it to {info.num_classes}"
        )
    update: dict[str, Any] = {"num_classes": cfg.num_classes or info.num_classes}
    if info.multilabel and cfg.type != "multilabel":
        update["type"] = "multilabel"
    resolved = cfg.model_copy(update=update)
    mode = loss_mode(resolved)
    classes = resolved.num_classes or info.num_classes
    weights, line = resolve_class_weights(resolved, mode, classes, info.class_counts, info.train_size, "task")
    if weights is not None:  # config.yaml records the numbers the loss used
        resolved = resolved.model_copy(update={"class_weights": weights})
    task = ClassificationTask(resolved, classes)
    task.notes = [line] if line else []
    return task


class ClassificationTask(TaskBase):
    """The Task protocol (``litrain.tasks.base``) for single-label and multilabel classes."""

    monitor = "val/acc"
    monitor_mode = "max"
    mixes_labels = True  # soft_targets: what mixup mixes

    def __init__(self, cfg: TaskConfig, num_classes: int) -> None:
        mode = "multilabel" if cfg.multilabel else cfg.type
        self.mode = "multiclass" if mode == "classification" else mode
        self.config = cfg
        self.num_classes = num_classes
        if self.mode == "binary" and num_classes > 2:
            raise ConfigError(f"task.type=binary but the data has {num_classes} classes")
        if cfg.loss in REGRESSION_LOSSES:
            raise ConfigError(
                f"task.loss={cfg.loss} is a regression loss and task.type={cfg.type} learns class "
                "labels: use ce or bce (or drop task.loss), or set task.type regression"
            )
        if self.mode == "multiclass" and cfg.loss == "bce":
            raise ConfigError("task.loss=bce needs task.type binary or multilabel")
        if self.mode != "multiclass" and cfg.loss == "ce":
            raise ConfigError(f"task.type={self.mode} trains with bce: drop task.loss=ce")
        self.label_smoothing = cfg.label_smoothing
        self.pos_weight = cfg.pos_weight
        self._loss = LOSSES.get(cfg.loss or ("ce" if self.mode == "multiclass" else "bce"))(cfg)

    @property
    def num_outputs(self) -> int:
        return 1 if self.mode == "binary" else self.num_classes

    def unpack(self, batch: Any) -> tuple[Tensor, Tensor]:
        return batch[0], batch[1]

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        return self._loss(logits, y)

    def soft_targets(self, y: Tensor) -> Tensor:
        """Targets as probabilities, what mixup mixes and the loss takes: (N, C) one-hot for
        multiclass (``F.cross_entropy`` then reads them as class probabilities and applies
        label smoothing to them), 0/1 floats for binary and multilabel."""
        if self.mode == "multiclass":
            return torch.nn.functional.one_hot(y.long(), self.num_classes).float()
        return y.float()

    def probs(self, logits: Tensor) -> Tensor:
        """(N, C) class probabilities; binary gives (N, 2) = [p(0), p(1)]."""
        logits = logits.float()
        if self.mode == "multiclass":
            return logits.softmax(-1)
        p = logits.sigmoid()
        if self.mode == "binary":
            p = p.view(-1, 1)
            return torch.cat([1 - p, p], dim=1)
        return p

    prediction = probs  # what predict collects: the class probabilities

    def metric_inputs(self, logits: Tensor) -> Tensor:
        """What torchmetrics gets: probabilities, 1-D for binary."""
        p = self.probs(logits)
        return p[:, 1] if self.mode == "binary" else p

    def predict(self, logits: Tensor) -> Tensor:
        return self.decide(self.probs(logits))

    def decide(self, probs: Tensor) -> Tensor:
        """Predicted labels from ``probs()``: each label above 0.5 (multilabel), else the
        most probable class (binary: p(1) > 0.5, ties to 0)."""
        return (probs > 0.5).long() if self.mode == "multilabel" else probs.argmax(-1)

    def _kwargs(self) -> dict:
        if self.mode == "multiclass":
            return {"task": "multiclass", "num_classes": self.num_classes}
        if self.mode == "multilabel":
            return {"task": "multilabel", "num_labels": self.num_classes}
        return {"task": "binary"}

    def metrics(self, prefix: str) -> tm.MetricCollection:
        """loss is logged separately; these are acc, balanced_acc, precision/recall/f1
        (macro), auroc, ap, and calibration: nll, brier, ece, mce
        (``litrain.tasks.calibration_metrics``).

        acc is the fraction of correct decisions: of samples (multiclass, binary), or of
        (sample, label) pairs for multilabel, where ``exact_match`` adds the fraction of
        samples with every label right (scikit-learn's ``accuracy_score``). ``balanced_acc`` is
        the mean of the per-class recalls (scikit-learn's ``balanced_accuracy_score``; per
        label for multilabel). Macro averages
        skip multiclass classes absent from both targets and predictions, as scikit-learn
        does; auroc and ap need each class to occur in the targets."""
        kw = self._kwargs()
        avg = {} if self.mode == "binary" else {"average": "macro"}
        acc_avg = {"average": "micro"} if self.mode in ("multiclass", "multilabel") else {}
        metrics: dict[str, tm.Metric] = {
            "acc": tm.Accuracy(**kw, **acc_avg),
            "balanced_acc": BinaryBalancedAccuracy() if self.mode == "binary" else tm.Accuracy(**kw, **avg),
            "precision": tm.Precision(**kw, **avg),
            "recall": tm.Recall(**kw, **avg),
            "f1": tm.F1Score(**kw, **avg),
            "auroc": tm.AUROC(**kw, **avg),
            "ap": tm.AveragePrecision(**kw, **avg),
        }
        if self.mode == "multilabel":
            metrics["exact_match"] = tm.ExactMatch(**kw)
        metrics.update(calibration_metrics(self.mode))  # nll, brier, ece, mce
        return tm.MetricCollection(metrics, prefix=prefix)

    def confusion_matrix(self) -> tm.Metric:
        return tm.ConfusionMatrix(**self._kwargs())

    def artifact_metrics(self, split: str) -> tm.Metric | None:
        """The test split's confusion matrix and reliability diagram."""
        if split != "test":
            return None
        from litrain.tasks.calibration_metrics import ReliabilityBins

        parts = {"confusion": self.confusion_matrix(), "reliability": ReliabilityBins(self.mode)}
        return tm.MetricCollection(parts, compute_groups=False)

    def write_artifacts(self, split: str, values: Tensor | dict[str, Tensor], run_dir: Path) -> list[Path]:
        """confusion_matrix.csv (+ its PNG); reliability.json and plots/reliability.png."""
        from litrain.tasks import uncertainty as U
        from litrain.tasks.classification_files import save_confusion_matrix, save_reliability

        if not isinstance(values, dict):  # the confusion matrix alone
            values = {"confusion": values}
        save_confusion_matrix(values["confusion"].cpu(), run_dir)
        written = [run_dir / "confusion_matrix.csv"]
        if "reliability" in values:
            written += save_reliability(
                {split: U.bins_record(values["reliability"], self.mode)}, run_dir, "reliability"
            )
        return written

    def write_predictions(
        self,
        path: Path,
        predictions: Tensor,
        targets: Any,
        names: list[str],
        extra: dict[str, Tensor] | None = None,
    ) -> Path:
        """predictions.csv; ``extra`` adds per-sample columns (uncertainty) after the probabilities."""
        from litrain.tasks.classification_files import write_predictions

        preds = self.decide(predictions)
        return write_predictions(path, predictions, targets, names, preds, self.mode == "multilabel", extra)


class BinaryBalancedAccuracy(tm.classification.MulticlassAccuracy):
    """Balanced accuracy of p(1) against 0/1 labels: the two classes' recalls averaged,
    predicting 1 where p(1) > 0.5 (as ``decide`` does)."""

    def __init__(self) -> None:
        super().__init__(num_classes=2, average="macro")

    def update(self, preds: Tensor, target: Tensor) -> None:
        super().update((preds > 0.5).long(), target.long())
