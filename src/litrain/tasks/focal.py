"""The focal loss (``task.loss: focal``; Lin et al. 2017), ``FL = -alpha_t (1 - p_t)^gamma
log p_t``, averaged over samples (multiclass) or over (sample, label) pairs (binary and
multilabel), as torchvision's ``sigmoid_focal_loss`` with ``reduction="mean"``.

- multiclass: softmax probabilities; ``alpha`` one weight per class (``task.focal_alpha`` or
  the class weights of ``task.class_weights``), none by default.
- binary / multilabel: per-label sigmoid (torchvision's ``sigmoid_focal_loss``); ``alpha``
  weighs positives (``1 - alpha`` the negatives): ``task.focal_alpha`` in [0, 1], or from
  class weights ``w_pos / (w_pos + w_neg)`` per label (the same ratio of positive to
  negative weight as BCE's ``pos_weight``).

gamma = 0 without alpha is plain cross-entropy (BCE). Label smoothing is refused by the
config: the (1 - p_t)^gamma factor is defined for hard labels."""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.ops import sigmoid_focal_loss

from litrain.config import TaskConfig
from litrain.errors import ConfigError
from litrain.tasks.losses import Loss, loss_mode, positive_weights


def softmax_focal(logits: Tensor, y: Tensor, gamma: float, alpha: tuple[float, ...] | None = None) -> Tensor:
    """Multiclass focal loss of (N, C) logits and (N,) class indices, mean over samples."""
    log_p = F.log_softmax(logits.float(), dim=-1).gather(1, y.long().view(-1, 1)).squeeze(1)
    loss = -((1 - log_p.exp()) ** gamma) * log_p
    if alpha is not None:
        loss = torch.tensor(alpha, device=loss.device, dtype=loss.dtype)[y.long()] * loss
    return loss.mean()


def sigmoid_focal(
    logits: Tensor, y: Tensor, gamma: float, alpha: float | tuple[float, ...] | None = None
) -> Tensor:
    """Binary/multilabel focal loss of logits shaped like the 0/1 targets, mean over elements;
    ``alpha`` one number or one per label (the last axis)."""
    logits = logits.float()
    target = y.float().view_as(logits)
    loss = sigmoid_focal_loss(logits, target, alpha=-1, gamma=gamma, reduction="none")
    if alpha is not None:
        a = torch.as_tensor(alpha, device=loss.device, dtype=loss.dtype)
        loss = (a * target + (1 - a) * (1 - target)) * loss
    return loss.mean()


def focal(cfg: TaskConfig) -> Loss:
    """Softmax focal for multiclass tasks (heads), sigmoid focal for binary and multilabel."""
    weights = cfg.class_weights if isinstance(cfg.class_weights, list) else None
    alpha = cfg.focal_alpha
    if loss_mode(cfg) == "multiclass":
        per_class = alpha if isinstance(alpha, list) else weights
        if alpha is not None and not isinstance(alpha, list):
            raise ConfigError(
                f"focal_alpha={alpha} is one number, which weighs the positives of a binary or "
                "multilabel loss: give one weight per class for a multiclass focal loss"
            )
        return partial(softmax_focal, gamma=cfg.focal_gamma, alpha=tuple(per_class) if per_class else None)
    if weights is not None:
        alpha = tuple(w / (1 + w) for w in positive_weights(cfg, weights))
    elif isinstance(alpha, list):
        alpha = tuple(alpha)
    return partial(sigmoid_focal, gamma=cfg.focal_gamma, alpha=alpha)
