"""Metrics of field targets (``(N, C, L)``, ``(N, C, H, W)``, ``(N, T, C, H, W)``) that
torchmetrics does not define the neural-operator way: ``nrmse`` (per sample and channel)
and ``rel_l2`` (one ratio over the split).

Both keep sums only (``dist_reduce_fx="sum"``), so under DDP the value over every rank's
samples is the 1-process value: no mean of per-rank means. A target channel whose norm is
below ``EPS`` is divided by ``EPS`` (the clamp of the rel_l2 loss), so an all-zero target
gives a finite number: 0 for an all-zero prediction, ‖pred‖₂ / EPS otherwise."""

from __future__ import annotations

import torch
import torchmetrics as tm
from torch import Tensor

from litrain.tasks.regression_losses import EPS


def per_channel(values: Tensor, channel_axis: int) -> Tensor:
    """(N, *shape) -> (N, C, rest): one sample's channel axis second, the rest flattened."""
    return values.movedim(1 + channel_axis, 1).flatten(2)


class NRMSE(tm.Metric):
    """Normalised RMSE of fields: for each sample n and channel c,
    ``‖pred[n, c] - true[n, c]‖₂ / ‖true[n, c]‖₂`` over the spatial (and time) axes, then
    the mean over samples and channels; ``channel=i`` gives channel i's mean over samples
    instead. A channel with ‖true‖₂ < EPS is divided by EPS (finite, documented above)."""

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, num_channels: int, channel_axis: int, channel: int | None = None) -> None:
        super().__init__()
        self.channel_axis, self.channel = channel_axis, channel
        self.add_state("ratio_sum", torch.zeros(num_channels), dist_reduce_fx="sum")
        self.add_state("samples", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        pred, true = (
            per_channel(preds.float(), self.channel_axis),
            per_channel(target.float(), self.channel_axis),
        )
        ratio = (pred - true).norm(dim=2) / true.norm(dim=2).clamp_min(EPS)
        self.ratio_sum += ratio.sum(0)
        self.samples += len(ratio)

    def compute(self) -> Tensor:
        per = self.ratio_sum / self.samples
        return per.mean() if self.channel is None else per[self.channel]


class RelativeL2(tm.Metric):
    """The global relative L2 error of a split: ``sqrt(Σ‖pred - true‖²) / sqrt(Σ‖true‖²)``,
    sums over every sample and value (not a mean of per-sample ratios, as the rel_l2 loss
    is), with the denominator clamped at EPS."""

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("diff_sq", torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("true_sq", torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        pred, true = preds.float(), target.float()
        self.diff_sq += (pred - true).square().sum()
        self.true_sq += true.square().sum()

    def compute(self) -> Tensor:
        return self.diff_sq.sqrt() / self.true_sq.sqrt().clamp_min(EPS)
