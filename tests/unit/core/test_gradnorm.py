"""litrain.core.gradnorm.GradNorms: total and per-module norms equal torch's total norm."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litrain.core.gradnorm import GradNorms


@pytest.mark.parametrize("order", [1.0, 2.0, float("inf")])
def test_total_and_per_module_norms(order: float) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    model(torch.randn(8, 5)).pow(2).sum().backward()
    gn = GradNorms(model, order)
    grads, norms = gn.measure()
    assert len(grads) == 4 and norms is not None and norms.shape == (4,)
    total = float(torch.nn.utils.get_total_norm([p.grad for p in model.parameters()], order))
    first = float(torch.nn.utils.get_total_norm([p.grad for p in model[0].parameters()], order))
    assert set(gn.values) == {"train/grad_norm", "train/grad_norm/0", "train/grad_norm/2"}
    assert gn.values["train/grad_norm"] == pytest.approx(total, rel=1e-6)
    assert gn.values["train/grad_norm/0"] == pytest.approx(first, rel=1e-6)
    gn.measure(scale=4.0)  # an fp16 loss scale still in the gradients is divided out
    assert gn.values["train/grad_norm"] == pytest.approx(total / 4, rel=1e-6)
