"""Pooling an ensemble: weights on the simplex then the temperature on the pooled logits, for
multiclass and binary (one temperature per output) members, on fixed tensors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from litrain.config import load_config
from litrain.tasks import uncertainty as U
from litrain.tasks.classification import ClassificationTask
from litrain.trained.ensemble import Ensemble
from litrain.trained.ensemble_fit import pool_members


class _Member(nn.Module):
    def __init__(self, task: ClassificationTask) -> None:
        super().__init__()
        self.task = task


def _ensemble(task_type: str, classes: int, members: torch.Tensor, targets: torch.Tensor) -> Ensemble:
    cfg = load_config([], {"task.type": task_type})
    ens = Ensemble([Path("a"), Path("b"), Path("c")], "val_nll_weights")
    task = ClassificationTask(cfg.task, classes)
    ens._members = nn.ModuleList([_Member(task) for _ in range(3)])
    ens.split_probs = lambda split: (members, targets)  # the members' validation probabilities
    return ens


def _members(classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, classes, (80,), generator=g)
    good = torch.nn.functional.one_hot(y, classes) * 4.0 + torch.randn(80, classes, generator=g)
    noise = torch.randn(2, 80, classes, generator=g) * 3
    return torch.stack([good, *noise]).softmax(-1), y


@pytest.mark.parametrize(("task_type", "classes"), [("classification", 4), ("binary", 2)])
def test_pooling_fits_weights_then_a_temperature_and_predicts_with_both(task_type: str, classes: int):
    members, y = _members(classes)
    ens = _ensemble(task_type, classes, members, y)
    mode = ens.task.mode
    cfg = load_config([], {"model.ensemble.combine": "val_nll_weights", "task.type": task_type})
    record = pool_members(ens, cfg)
    w = ens.weights
    assert w.sum().item() == pytest.approx(1.0) and int(w.argmax()) == 0  # the informative member
    assert record["val_nll_pooled"] < record["val_nll_uniform"]
    assert record["calibration"]["val_nll_after"] <= record["calibration"]["val_nll_before"]
    assert ens.temperature.shape == (() if mode == "multiclass" else (1,))

    pooled = (w[:, None, None] * members.double()).sum(0)
    t = ens.temperature.double()
    if mode == "multiclass":
        want = (pooled.log() / t).softmax(-1)
    else:
        q = torch.sigmoid((pooled[:, 1].log() - pooled[:, 0].log()) / t)
        want = torch.stack([1 - q, q], -1)
    got = ens.pool(members)
    assert torch.allclose(got.double(), want, atol=1e-6)
    assert torch.equal(got.argmax(-1), pooled.argmax(-1))
    assert float(U.nll(got, y, mode)) == pytest.approx(record["calibration"]["val_nll_after"], abs=1e-5)
