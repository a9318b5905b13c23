"""The export gate's bounds (litrain.export.gate) on known numbers: the float tolerance, the
decision agreement, the metric and ECE deltas; and ``measure`` against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from litrain.config import TaskConfig
from litrain.errors import ConfigError
from litrain.export.gate import HeldOut, Numbers, failures, measure
from litrain.export.options import ExportOptions
from litrain.tasks.classification import ClassificationTask

TASK = ClassificationTask(TaskConfig(type="classification"), 3)


def test_measure_gives_max_diffs_agreement_and_metric_deltas():
    ref = torch.tensor([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    out = ref.clone()
    out[3] = torch.tensor([0.0, 1.0, 0.0])  # the 4th sample's decision flips from 0 to 1
    held = HeldOut([torch.zeros(4, 2)], torch.tensor([0, 1, 2, 0]), "val")
    n = measure(TASK, ref, out, held)
    assert n.samples == 4 and n.max_abs_diff == 1.0 and n.max_abs_reference == 3.0
    assert n.max_rel_diff == pytest.approx(1.0 / 1e-6)  # relative to a reference of 0
    assert n.agreement == 0.75
    assert n.reference["val/acc"] == 1.0 and n.metrics["val/acc"] == 0.75
    assert n.delta("val/acc") == pytest.approx(-0.25)


def _numbers(**kw) -> Numbers:
    base = {"samples": 10, "data": "val", "max_abs_diff": 0.0, "max_rel_diff": 0.0, "max_abs_reference": 10.0}
    return Numbers(**{**base, **kw})


def test_float32_tolerance_scales_with_the_outputs_and_nan_fails():
    opts = ExportOptions()
    assert failures(TASK, _numbers(max_abs_diff=1e-3), opts, "float32") == []  # <= 1e-4 + 1e-4 * 10
    (line,) = failures(TASK, _numbers(max_abs_diff=2e-3), opts, "float32")
    assert line == "max abs diff 0.002 > 0.0011 (float32 tolerance)"
    assert failures(TASK, _numbers(max_abs_diff=float("nan")), opts, "float32")
    assert failures(TASK, _numbers(max_abs_diff=5.0), opts, None) == []  # int8: no elementwise bound


def test_agreement_metric_and_ece_bounds():
    n = _numbers(
        agreement=0.985,
        metrics={"val/acc": 0.90, "val/ece": 0.08},
        reference={"val/acc": 0.93, "val/ece": 0.05},
    )
    assert failures(TASK, n, ExportOptions(), None) == ["decision agreement 98.50% < 99.00%"]
    strict = ExportOptions(min_agreement=0.98, max_metric_delta=0.02, max_ece_delta=0.01)
    assert failures(TASK, n, strict, None) == ["|Δval/acc| 0.0300 > 0.02", "|ΔECE| 0.0300 > 0.01"]
    assert (
        failures(TASK, n, ExportOptions(min_agreement=0.98, max_metric_delta=0.05, max_ece_delta=0.05), None)
        == []
    )


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"int8": "dynamic"}, "--int8 dynamic: choose one of ort-static"),
        ({"min_agreement": 99.0}, "give a fraction in [0, 1]"),
        ({"max_ece_delta": -1.0}, "--max-ece-delta -1.0: give a bound >= 0"),
        ({"calibration_batches": 0}, "--calibration-batches: give at least 1"),
    ],
)
def test_bad_options_are_one_line(kw, says):
    with pytest.raises(ConfigError, match=says.replace("[", r"\[").replace("]", r"\]")):
        ExportOptions(**kw)
