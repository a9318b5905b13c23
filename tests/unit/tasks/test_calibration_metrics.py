"""Classification val/test metrics nll, brier, ece, mce, aurc: fed batch by batch they equal the
formulas on the whole split, per mode and per multi-task head, and two halves' states merged
(what DDP gathers) give the one-process number."""

from __future__ import annotations

import pytest
import torch

from litrain.config import TaskConfig
from litrain.data.base import DataInfo
from litrain.tasks import uncertainty as U
from litrain.tasks.calibration_metrics import calibration_metrics
from litrain.tasks.classification import ClassificationTask
from litrain.tasks.multitask import multitask_task

NAMES = ("nll", "brier", "ece", "mce", "aurc")


def _data(mode: str, n: int = 61, classes: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    if mode == "multiclass":
        y = torch.randint(0, classes, (n,), generator=g)
        logits = torch.nn.functional.one_hot(y, classes).float() * 2 + torch.randn(n, classes, generator=g)
        logits[0], y[0] = torch.tensor([80.0, -80.0, -80.0, -80.0]), 0  # confidence exactly 1.0
        return logits, y
    if mode == "binary":
        y = torch.randint(0, 2, (n,), generator=g)
        return (y.float() - 0.5 + torch.randn(n, generator=g)).view(-1, 1), y
    y = torch.randint(0, 2, (n, 3), generator=g)
    return (y.float() - 0.5) * 1.5 + torch.randn(n, 3, generator=g), y


def _reference(probs: torch.Tensor, y: torch.Tensor, mode: str) -> dict[str, float]:
    return {
        "nll": float(U.nll(probs, y, mode)),
        "brier": float(U.brier(probs, y, mode)),
        "ece": float(U.calibration_error(probs, y, mode)),
        "mce": float(U.calibration_error(probs, y, mode, "max")),
        "aurc": float(U.aurc(*U.confidence_and_correct(probs, y, mode))),
    }


@pytest.mark.parametrize("mode", ["multiclass", "binary", "multilabel"])
def test_task_metrics_equal_the_formulas_on_the_whole_split(mode: str):
    task_type = {"multiclass": "classification"}.get(mode, mode)
    classes = {"multiclass": 4, "binary": 2, "multilabel": 3}[mode]
    task = ClassificationTask(TaskConfig(type=task_type), classes)
    logits, y = _data(mode)
    collection = task.metrics("val/")
    for lo, yb in zip(logits.split(7), y.split(7), strict=True):
        collection.update(task.metric_inputs(lo), yb)
    got = {k: float(v) for k, v in collection.compute().items()}
    want = _reference(task.metric_inputs(logits), y, mode)
    for name in NAMES:
        assert got[f"val/{name}"] == pytest.approx(want[name], abs=1e-5), name
    assert {"val/acc", "val/auroc", "val/ap"} <= set(got)  # the old names stay
    if mode == "multiclass":  # the hand NLL: -mean log softmax[y]
        ref = -logits.log_softmax(-1)[torch.arange(len(y)), y].mean()
        assert got["val/nll"] == pytest.approx(float(ref), abs=1e-4)


@pytest.mark.parametrize("mode", ["multiclass", "binary"])
def test_merged_halves_equal_one_process(mode: str):
    logits, y = _data(mode)
    task = ClassificationTask(
        TaskConfig(type="binary" if mode == "binary" else "classification"), 2 if mode == "binary" else 4
    )
    probs = task.metric_inputs(logits)
    whole = calibration_metrics(mode)
    halves = [calibration_metrics(mode), calibration_metrics(mode)]
    for name in NAMES:
        whole[name].update(probs, y)
        halves[0][name].update(probs[:30], y[:30])
        halves[1][name].update(probs[30:], y[30:])
        halves[0][name].merge_state(halves[1][name])
        assert float(halves[0][name].compute()) == pytest.approx(float(whole[name].compute()), abs=1e-6)


def test_multitask_classifier_heads_get_them_per_head():
    info = DataInfo(
        (4,),
        0,
        float_targets=True,
        head_columns={"sev": 1, "act": 1, "tags": 3, "score": 1},
        head_classes={"sev": 3, "act": 2, "tags": 3},
    )
    heads = {
        "sev": {"type": "classification"},
        "act": {"type": "binary"},
        "tags": {"type": "multilabel"},
        "score": {"type": "regression"},
    }
    task = multitask_task(TaskConfig(type="multitask", heads=heads), info)
    g = torch.Generator().manual_seed(3)
    n = 40
    y = torch.cat(
        [
            (torch.arange(n) % 3)[:, None].float(),
            (torch.arange(n) % 2)[:, None].float(),
            (torch.rand(n, 3, generator=g) > 0.5).float(),
            torch.randn(n, 1, generator=g),
        ],
        1,
    )
    out = torch.randn(n, 3 + 1 + 3 + 1, generator=g)
    metrics = task.metrics("val/")
    metrics.update(task.metric_inputs(out[:25]), y[:25])
    metrics.update(task.metric_inputs(out[25:]), y[25:])
    got = {k: float(v) for k, v in metrics.compute().items()}
    refs = {
        "sev": _reference(out[:, :3].softmax(-1), y[:, 0].long(), "multiclass"),
        "act": _reference(out[:, 3].sigmoid(), y[:, 1].long(), "binary"),
        "tags": _reference(out[:, 4:7].sigmoid(), y[:, 2:5].long(), "multilabel"),
    }
    for head, want in refs.items():
        for name in NAMES:
            assert got[f"val/{head}/{name}"] == pytest.approx(want[name], abs=1e-5), (head, name)
    assert not any(k.startswith("val/score/") and k.split("/")[-1] in NAMES for k in got)
