"""Gradient norms (``logging.grad_norm``): the total and per top-level module, shared by both
engines. Lightning-free.

One foreach norm kernel gives each gradient's norm; the total and the per-module norms are
reduced from those (||g||_p = ||(||g_i||_p)_i||_p), and the same per-tensor norms serve the
finiteness check on the steps they are computed (``litrain.core.finite.all_finite``), so the
logged norm costs no extra pass over the gradients."""

from __future__ import annotations

import torch
from torch import nn


class GradNorms:
    """Per-tensor norms of ``order`` grouped by the model's top-level module."""

    def __init__(self, model: nn.Module, order: float) -> None:
        self.order = float(order)
        self.named = [(n.split(".", 1)[0], p) for n, p in model.named_parameters()]
        self.values: dict[str, float] = {}  # the last measured step's, for the logger

    def measure(self, scale: float = 1.0) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        """The gradients and their norms (one per gradient, float32), and the totals in
        ``values``. ``scale``: the loss scale the gradients still carry (fp16), divided out."""
        named = [(m, p.grad) for m, p in self.named if p.grad is not None]
        grads = [g for _, g in named]
        if not grads:
            self.values = {}
            return grads, None
        norms = torch.stack(torch._foreach_norm(grads, self.order)).float()
        modules = [m for m, _ in named]
        per_module = {
            m: self._reduce(norms[[i for i, n in enumerate(modules) if n == m]])
            for m in dict.fromkeys(modules)
        }
        totals = torch.stack([self._reduce(norms), *per_module.values()]) / scale
        host = totals.tolist()  # one read for all of them
        self.values = {"train/grad_norm": host[0]}
        self.values.update({f"train/grad_norm/{m}": v for m, v in zip(per_module, host[1:], strict=True)})
        return grads, norms

    def _reduce(self, norms: torch.Tensor) -> torch.Tensor:
        return norms.max() if self.order == float("inf") else norms.norm(self.order)
