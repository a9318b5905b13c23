"""Per-sample input transforms: normalization with the data set's own statistics, resizing,
and the flip / padded crop of the augment presets (``litrain.data.augment``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Transform = Callable[[torch.Tensor], torch.Tensor]


def channel_stats(x: torch.Tensor, views: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std per channel for (N, C, ...) inputs, per feature for (N, D) tables.
    Returned shaped to broadcast against one sample. Multi-view (N, V, C, ...) inputs
    (``views`` > 0) pool the views; NaN (a missing view) is left out of both statistics."""
    if views:
        x = x.flatten(0, 1)
    if bool(torch.isnan(x).any()):
        return _nan_channel_stats(x)
    if x.ndim == 2:
        mean, std = x.mean(0), x.std(0)
    else:
        dims = [0, *range(2, x.ndim)]
        mean, std = x.mean(dims), x.std(dims)
        mean = mean.view(-1, *([1] * (x.ndim - 2)))
        std = std.view(-1, *([1] * (x.ndim - 2)))
    return mean, std.clamp_min(1e-6)  # constant features (digits' border pixels) stay finite


def _nan_channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """channel_stats ignoring NaN entries (unbiased std, as torch.std)."""
    dims = [0] if x.ndim == 2 else [0, *range(2, x.ndim)]
    mean = x.nanmean(dims, keepdim=True)
    count = (~torch.isnan(x)).sum(dims, keepdim=True)
    var = (x - mean).square().nansum(dims, keepdim=True) / (count - 1).clamp_min(1)
    mean, std = mean.squeeze(0), var.sqrt().squeeze(0)
    return mean, std.nan_to_num(1.0).clamp_min(1e-6)


def resize_images(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a (N, C, H, W) batch once, up front, rather than per sample per epoch."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


class Augment:
    """Random horizontal flip and/or a random crop after zero-padding by size/8 (times
    ``pad_scale``; ``data.augment_strength`` sets it and the flip's chance)."""

    def __init__(self, flip: bool, crop: bool, pad_scale: float = 1.0, flip_prob: float = 0.5) -> None:
        self.flip, self.crop = flip, crop
        self.pad_scale, self.flip_prob = pad_scale, flip_prob

    def pad(self, h: int) -> int:
        """Crop padding for side ``h``: max(1, h // 8) at scale 1 (the original presets)."""
        base = max(1, h // 8)
        return base if self.pad_scale == 1.0 else max(1, round(base * self.pad_scale))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.flip and torch.rand(()) < self.flip_prob:
            x = x.flip(-1)
        if self.crop:
            h, w = x.shape[-2:]
            pad = self.pad(h)
            padded = F.pad(x, (pad, pad, pad, pad))
            i, j = torch.randint(0, 2 * pad + 1, (2,)).tolist()
            x = padded[..., i : i + h, j : j + w]
        return x
