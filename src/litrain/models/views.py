"""Multi-view inputs: one backbone shared by every view, pooled features, one head.

A batch stays one plain tensor ``(N, V, *view_shape)`` so every loader, sampler, DDP shard
and ``len(x)`` works unchanged. A missing view (a sample with fewer than V views) is
filled with NaN by the data source; the mask is derived here from the tensor itself: a view
holding any NaN is masked. Masked views never reach the backbone (only the valid views are
folded into the batch), so their pixels cannot change the output, nor batch-norm
statistics; pooling and attention ignore them.
"""

from __future__ import annotations

import torch
from torch import nn

POOLS = ("max", "mean", "attention")


def view_mask(x: torch.Tensor) -> torch.Tensor:
    """(N, V) bool: True where a view is present (holds no NaN)."""
    return ~torch.isnan(x.flatten(2)).any(-1)


class MultiView(nn.Module):
    """``backbone`` maps ``(B, *view_shape)`` to ``(B, features)``; this module maps
    ``(N, V, *view_shape)`` to ``(N, num_outputs)``."""

    def __init__(
        self, backbone: nn.Module, features: int, num_outputs: int, pool: str, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.backbone, self.pool, self.features = backbone, pool, features
        # attention: a learned score per view, softmax over the valid views
        self.score = nn.Linear(features, 1) if pool == "attention" else None
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(features, num_outputs))

    def view_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-view features (N, V, F), zero for masked views, and the (N, V) mask."""
        n, v = x.shape[:2]
        valid = view_mask(x)
        flat = x.flatten(0, 1)
        keep = valid.flatten()
        if bool(keep.all()):
            feats = self.backbone(flat)
        else:
            kept = self.backbone(flat[keep])
            feats = kept.new_zeros((n * v, kept.shape[-1])).index_put((keep.nonzero().squeeze(1),), kept)
        return feats.view(n, v, -1), valid

    def view_weights(self, feats: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Attention weights (N, V): softmax of the scores over valid views, 0 elsewhere."""
        assert self.score is not None
        scores = self.score(feats).squeeze(-1).masked_fill(~valid, float("-inf"))
        return torch.softmax(scores, dim=1).nan_to_num(0.0)  # a row with no valid view: 0

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled features (N, F) the head reads."""
        feats, valid = self.view_features(x)
        w = valid.unsqueeze(-1).to(feats.dtype)
        if self.pool == "mean":
            return (feats * w).sum(1) / w.sum(1).clamp_min(1.0)
        if self.pool == "max":
            out = feats.masked_fill(~valid.unsqueeze(-1), float("-inf")).amax(1)
            return torch.where(valid.any(1, keepdim=True), out, torch.zeros_like(out))
        return (self.view_weights(feats, valid).unsqueeze(-1) * feats).sum(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(x))
