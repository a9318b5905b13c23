"""Losses by name (``task.loss``). Each entry is a builder ``(TaskConfig) -> loss(outputs,
targets)`` registered in ``litrain.tasks``, so a loss reads its own options from the task's
config section; adding one is a function here and a line there. A built loss is a
``functools.partial`` of a module-level function, so it pickles (``ddp_spawn`` sends the
module, task included, to its processes). Losses run in fp32 under autocast."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from litrain.config import TaskConfig

Loss = Callable[[Tensor, Tensor], Tensor]


def loss_mode(cfg: Any) -> str:
    """multiclass, binary or multilabel, from a task's (resolved) or a head's config."""
    if getattr(cfg, "multilabel", False) or cfg.type == "multilabel":
        return "multilabel"
    return "binary" if cfg.type == "binary" else "multiclass"


def numeric_weights(cfg: Any) -> list[float] | None:
    """``class_weights`` as numbers; the task resolves a rule (inverse, ...) from the
    training split's counts before it builds the loss."""
    weights = getattr(cfg, "class_weights", None)
    if isinstance(weights, str):
        raise ValueError(
            f"class_weights={weights} must be resolved from the class counts first "
            "(litrain.tasks.class_weights.resolve_class_weights)"
        )
    return weights


def positive_weights(cfg: Any, weights: list[float]) -> list[float]:
    """Resolved class weights as each label's positive weight: binary ``[w_0, w_1]`` gives
    ``w_1 / w_0``; multilabel weights are the labels' positive weights already."""
    if loss_mode(cfg) == "binary":
        w0, w1 = weights
        return [w1 / w0 if w0 > 0 else 1.0]
    return list(weights)


def _cross_entropy(
    logits: Tensor, y: Tensor, smoothing: float, class_weights: tuple[float, ...] | None = None
) -> Tensor:
    weight = torch.tensor(class_weights, device=logits.device) if class_weights else None
    return F.cross_entropy(logits.float(), y, weight=weight, label_smoothing=smoothing)


def cross_entropy(cfg: TaskConfig) -> Loss:
    """Softmax cross-entropy on (N, C) logits and (N,) class indices; ``class_weights``
    (resolved to numbers) weight each class's samples, with PyTorch's weighted mean
    (divided by the sum of the samples' weights)."""
    weights = numeric_weights(cfg)
    return partial(
        _cross_entropy, smoothing=cfg.label_smoothing, class_weights=tuple(weights) if weights else None
    )


def _binary_cross_entropy(
    logits: Tensor, y: Tensor, smoothing: float, pos_weight: float | tuple[float, ...] | None
) -> Tensor:
    logits = logits.float()
    target = y.float().view_as(logits)
    if smoothing:
        target = target * (1 - smoothing) + 0.5 * smoothing
    weight = torch.tensor(pos_weight, device=logits.device) if pos_weight else None
    return F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)


def binary_cross_entropy(cfg: TaskConfig) -> Loss:
    """Sigmoid cross-entropy on logits shaped like the 0/1 targets (binary: (N, 1) vs (N,)).
    Label smoothing pulls each target towards 0.5; ``pos_weight`` weights the positives, as
    do ``class_weights`` (resolved: each label's positive weight, see ``positive_weights``)."""
    weights = numeric_weights(cfg)
    pos: float | tuple[float, ...] | None = cfg.pos_weight
    if weights is not None:
        pos = tuple(positive_weights(cfg, weights))
    return partial(_binary_cross_entropy, smoothing=cfg.label_smoothing, pos_weight=pos)
