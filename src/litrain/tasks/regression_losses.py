"""Losses for real-valued targets (``task.loss`` of a regression task or head).

Each builder takes the task's (or head's) config section and returns a picklable
``loss(outputs, targets)``; outputs and targets have the same shape (the task checks it
first). All compute in fp32. ``rel_l2`` and ``h1`` are per-sample relative norms, the usual
losses of neural-operator training: each sample counts the same whatever its magnitude."""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from litrain.tasks.losses import Loss

# A target whose norm is below this is treated as having this norm: the relative error of
# an all-zero target is then the absolute error / EPS rather than a division by zero.
EPS = 1e-8

# The names registered in litrain.tasks for these builders: a classification task refuses them.
REGRESSION_LOSSES = ("mse", "l1", "huber", "smooth_l1", "rel_l2", "h1")


def _pair(outputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    return outputs.float(), targets.float().view_as(outputs)


def _mse(outputs: Tensor, targets: Tensor) -> Tensor:
    return F.mse_loss(*_pair(outputs, targets))


def _l1(outputs: Tensor, targets: Tensor) -> Tensor:
    return F.l1_loss(*_pair(outputs, targets))


def _huber(outputs: Tensor, targets: Tensor, delta: float) -> Tensor:
    return F.huber_loss(*_pair(outputs, targets), delta=delta)


def _smooth_l1(outputs: Tensor, targets: Tensor, beta: float) -> Tensor:
    return F.smooth_l1_loss(*_pair(outputs, targets), beta=beta)


def relative_l2_per_sample(outputs: Tensor, targets: Tensor) -> Tensor:
    """(N,) ‖pred - true‖₂ / ‖true‖₂ over every non-batch axis of each sample."""
    pred, true = _pair(outputs, targets)
    diff = (pred - true).flatten(1).norm(dim=1)
    return diff / true.flatten(1).norm(dim=1).clamp_min(EPS)


def _rel_l2(outputs: Tensor, targets: Tensor) -> Tensor:
    return relative_l2_per_sample(outputs, targets).mean()


def _h1_weights(shape: torch.Size, dims: int, device: torch.device) -> Tensor:
    """1 + |k|² on the FFT grid of the last ``dims`` axes (integer wavenumbers)."""
    k2 = torch.zeros((), device=device)
    for axis, n in enumerate(shape[-dims:]):
        k = torch.fft.fftfreq(n, d=1.0 / n, device=device) ** 2
        k2 = k2.unsqueeze(-1) + k if axis else k
    return 1 + k2


def relative_h1_per_sample(outputs: Tensor, targets: Tensor) -> Tensor:
    """(N,) relative Sobolev H1 error of 1-D ``(N, [C,] L)`` or 2-D ``(N, C, H, W)`` fields:
    sqrt(Σ_k (1+|k|²)|d̂_k|²) / sqrt(Σ_k (1+|k|²)|ŷ_k|²) with d = pred - true and the FFT
    over the spatial axes (the field's periodic extension; k integer wavenumbers of the
    grid). It weighs the error of the gradient, which rel_l2 alone lets ring."""
    pred, true = _pair(outputs, targets)
    dims = 2 if pred.dim() >= 4 else 1
    axes = tuple(range(-dims, 0))
    weights = _h1_weights(pred.shape, dims, pred.device)
    diff = (torch.fft.fftn(pred - true, dim=axes).abs() ** 2 * weights).flatten(1).sum(1)
    norm = (torch.fft.fftn(true, dim=axes).abs() ** 2 * weights).flatten(1).sum(1)
    return diff.sqrt() / norm.sqrt().clamp_min(EPS)


def _h1(outputs: Tensor, targets: Tensor) -> Tensor:
    return relative_h1_per_sample(outputs, targets).mean()


def mse(cfg: Any) -> Loss:
    """Mean squared error."""
    return _mse


def l1(cfg: Any) -> Loss:
    """Mean absolute error."""
    return _l1


def huber(cfg: Any) -> Loss:
    """Huber loss: quadratic below ``task.huber_delta``, linear above."""
    return partial(_huber, delta=cfg.huber_delta)


def smooth_l1(cfg: Any) -> Loss:
    """Smooth L1 (Huber divided by delta), with beta = ``task.huber_delta``."""
    return partial(_smooth_l1, beta=cfg.huber_delta)


def rel_l2(cfg: Any) -> Loss:
    """Mean over samples of the relative L2 error (the neural-operator standard)."""
    return _rel_l2


def h1(cfg: Any) -> Loss:
    """Mean over samples of the relative H1 error of 1-D/2-D fields."""
    return _h1
