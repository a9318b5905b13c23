"""Classification: loss, probabilities and torchmetrics for multiclass, binary (one logit)
and multilabel. Both engines call these, so they compute the same numbers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchmetrics as tm
from torch import Tensor

from litrain.config import TaskConfig
from litrain.errors import ConfigError


class ClassificationTask:
    def __init__(self, cfg: TaskConfig, num_classes: int) -> None:
        mode = "multilabel" if cfg.multilabel else cfg.type
        self.mode = "multiclass" if mode == "classification" else mode
        self.num_classes = num_classes
        if self.mode == "binary" and num_classes > 2:
            raise ConfigError(f"task.type=binary but the data has {num_classes} classes")
        if self.mode == "multiclass" and cfg.loss == "bce":
            raise ConfigError("task.loss=bce needs task.type binary or multilabel")
        if self.mode != "multiclass" and cfg.loss == "ce":
            raise ConfigError(f"task.type={self.mode} trains with bce: drop task.loss=ce")
        self.label_smoothing = cfg.label_smoothing
        self.pos_weight = cfg.pos_weight

    @property
    def num_outputs(self) -> int:
        return 1 if self.mode == "binary" else self.num_classes

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        logits = logits.float()  # losses in fp32 under autocast
        if self.mode == "multiclass":
            return F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        target = y.float().view_as(logits) if self.mode == "binary" else y.float()
        if self.label_smoothing:
            target = target * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        pos_weight = torch.tensor(self.pos_weight, device=logits.device) if self.pos_weight else None
        return F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)

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
        """loss is logged separately; these are acc, precision/recall/f1 (macro), auroc, ap.

        acc is the fraction of correct decisions: of samples (multiclass, binary), or of
        (sample, label) pairs for multilabel, where ``exact_match`` adds the fraction of
        samples with every label right (scikit-learn's ``accuracy_score``). Macro averages
        skip multiclass classes absent from both targets and predictions, as scikit-learn
        does; auroc and ap need each class to occur in the targets."""
        kw = self._kwargs()
        avg = {} if self.mode == "binary" else {"average": "macro"}
        acc_avg = {"average": "micro"} if self.mode in ("multiclass", "multilabel") else {}
        metrics: dict[str, tm.Metric] = {
            "acc": tm.Accuracy(**kw, **acc_avg),
            "precision": tm.Precision(**kw, **avg),
            "recall": tm.Recall(**kw, **avg),
            "f1": tm.F1Score(**kw, **avg),
            "auroc": tm.AUROC(**kw, **avg),
            "ap": tm.AveragePrecision(**kw, **avg),
        }
        if self.mode == "multilabel":
            metrics["exact_match"] = tm.ExactMatch(**kw)
        return tm.MetricCollection(metrics, prefix=prefix)

    def confusion_matrix(self) -> tm.Metric:
        return tm.ConfusionMatrix(**self._kwargs())
