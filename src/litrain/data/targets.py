"""Real-valued targets: their layout, and the training-split statistics that
``task.normalize_targets`` standardises them with.

One sample's target is a scalar ``()``, a vector ``(K,)`` or a field: a channel axis then
one or two spatial axes, ``(C, L)`` or ``(C, H, W)``, or a rollout ``(T, C, H, W)`` of T
time steps. The task and the statistics read the layout from here, so they agree on which
axis holds the channels."""

from __future__ import annotations

import torch

from litrain.errors import DataError

# Axes of one field sample -> the axis that holds its channels ((T, C, H, W): C after time).
_FIELD_CHANNEL_AXIS = {2: 0, 3: 0, 4: 1}


def target_kind(shape: tuple[int, ...]) -> str:
    """``scalar``, ``vector`` or ``field`` for one sample's target shape."""
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return "vector"
    if len(shape) in _FIELD_CHANNEL_AXIS:
        return "field"
    raise DataError(
        f"targets of shape {shape} per sample are not supported: a scalar, a vector (K,) or a "
        "field (C, L), (C, H, W) or (T, C, H, W)"
    )


def channel_axis(shape: tuple[int, ...]) -> int:
    """The axis of one sample's target that statistics are kept per: the columns of a
    vector, the channels of a field (0 for a scalar, which has one value)."""
    return _FIELD_CHANNEL_AXIS.get(len(shape), 0)


def target_stats(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) std of the targets ``y`` (N, *shape): one value for scalars,
    per column for vectors, per channel for fields, as scikit-learn's StandardScaler
    computes them; shaped to broadcast against a batch of targets. Computed in float64;
    a constant column or channel gets std 1 (it is only centred)."""
    shape = tuple(y.shape[1:])
    y = y.detach().to(torch.float64)
    if target_kind(shape) == "field":
        axis = 1 + channel_axis(shape)
        dims = [d for d in range(y.ndim) if d != axis]
        std, mean = torch.std_mean(y, dim=dims, correction=0, keepdim=True)
        mean, std = mean[0], std[0]  # drop the batch axis: broadcast against (N, *shape)
    else:
        std, mean = torch.std_mean(y, dim=0, correction=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return mean.float(), std.float()
