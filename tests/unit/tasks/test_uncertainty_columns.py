"""The per-sample uncertainty columns of predictions.csv, the reliability bins and the pooled
weights, against the reference formulas on fixed tensors."""

from __future__ import annotations

import math

import torch

from litrain.tasks import uncertainty as U
from litrain.trained.ensemble_fit import fit_simplex_weights

# 2 members, 3 samples, 2 classes
MEMBERS = torch.tensor(
    [
        [[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]],
        [[0.1, 0.9], [0.5, 0.5], [0.4, 0.6]],
    ],
    dtype=torch.float64,
)


def _h(ps: list[float]) -> float:
    return -sum(p * math.log(p) for p in ps if p > 0)


def test_columns_equal_the_reference_formulas():
    cols = U.uncertainty_columns(MEMBERS)
    total = [_h([0.5, 0.5]), _h([0.5, 0.5]), _h([0.3, 0.7])]
    expected = [_h([0.9, 0.1]), _h([0.5, 0.5]), (_h([0.2, 0.8]) + _h([0.4, 0.6])) / 2]
    assert torch.allclose(cols["predictive_entropy"], torch.tensor(total, dtype=torch.float64))
    assert torch.allclose(cols["expected_entropy"], torch.tensor(expected, dtype=torch.float64))
    mi = [t - e for t, e in zip(total, expected, strict=True)]
    assert torch.allclose(cols["mutual_information"], torch.tensor(mi, dtype=torch.float64))
    assert cols["mutual_information"][1] == 0  # the members agree exactly on sample 1
    # sample 0: pooled [0.5, 0.5] -> class 0; member 1 says 1
    assert cols["disagreement"].tolist() == [0.5, 0.0, 0.0]


def test_weights_pool_the_members_and_identical_members_have_no_epistemic_part():
    w = torch.tensor([0.75, 0.25], dtype=torch.float64)
    cols = U.uncertainty_columns(MEMBERS, w)
    pooled0 = [0.75 * 0.9 + 0.25 * 0.1, 0.75 * 0.1 + 0.25 * 0.9]
    assert math.isclose(float(cols["predictive_entropy"][0]), _h(pooled0), rel_tol=1e-12)
    assert math.isclose(float(cols["expected_entropy"][0]), _h([0.9, 0.1]), rel_tol=1e-12)
    same = U.uncertainty_columns(MEMBERS[:1].expand(4, -1, -1))
    assert torch.equal(same["mutual_information"], torch.zeros(3, dtype=torch.float64))


def test_multilabel_sums_each_labels_two_class_entropy():
    members = torch.tensor([[[0.9, 0.5]], [[0.7, 0.5]]], dtype=torch.float64)  # (M=2, N=1, K=2 labels)
    cols = U.uncertainty_columns(members, mode="multilabel")
    assert math.isclose(float(cols["predictive_entropy"][0]), _h([0.8, 0.2]) + _h([0.5, 0.5]), rel_tol=1e-12)
    assert math.isclose(
        float(cols["expected_entropy"][0]),
        (_h([0.9, 0.1]) + _h([0.7, 0.3])) / 2 + _h([0.5, 0.5]),
        rel_tol=1e-12,
    )


def test_reliability_bins_count_and_give_the_ece_the_metric_gives():
    probs = torch.tensor([[0.95, 0.05], [0.65, 0.35], [0.25, 0.75], [1.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0, 1, 1, 0])
    r = U.reliability_bins(probs, y, n_bins=10)
    filled = {
        round(b["lower"], 1): (b["count"], b["confidence"], b["accuracy"]) for b in r["bins"] if b["count"]
    }
    assert filled.keys() == {0.6, 0.7, 0.9}
    assert filled[0.6] == (1, 0.65, 0.0)
    assert filled[0.7] == (1, 0.75, 1.0)
    assert filled[0.9][:2] == (2, 0.975) and filled[0.9][2] == 1.0  # 1.0 is in the last bin
    assert math.isclose(r["ece"], (0.65 + 0.25 + 2 * 0.025) / 4, rel_tol=1e-9)
    assert math.isclose(r["ece"], float(U.calibration_error(probs, y, n_bins=10)), rel_tol=1e-5)
    assert math.isclose(r["mce"], 0.65, rel_tol=1e-9)


def test_aurc_equals_a_reference_implementation():
    g = torch.Generator().manual_seed(0)
    probs = torch.randn(200, 4, generator=g).softmax(-1)
    y = torch.randint(0, 4, (200,), generator=g)
    conf, right = U.confidence_and_correct(probs, y)
    # reference: sort by confidence, risk at each coverage k/N, mean over k
    order = sorted(range(200), key=lambda i: -float(conf[i]))
    errors, risks = 0, []
    for k, i in enumerate(order, 1):
        errors += int(not right[i])
        risks.append(errors / k)
    assert math.isclose(float(U.aurc(conf, right)), sum(risks) / len(risks), rel_tol=1e-12)


def test_val_nll_weights_favour_the_better_member_and_lower_the_nll():
    y = torch.tensor([0, 1, 1])
    w = fit_simplex_weights(MEMBERS, y, "multiclass")
    assert math.isclose(float(w.sum()), 1.0, rel_tol=1e-12) and bool((w >= 0).all())
    assert w[0] > w[1]  # member 0 is right on samples 0 and 2 with more confidence
    pooled = lambda v: (v[:, None, None] * MEMBERS.double()).sum(0)  # noqa: E731
    assert U.nll(pooled(w), y) < U.nll(pooled(torch.tensor([0.5, 0.5])), y)
