"""Uncertainty and calibration functions equal their hand formulas on fixed tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from litrain.tasks import uncertainty as U

PROBS = torch.tensor(
    [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25], [0.05, 0.05, 0.9]]
)
Y = torch.tensor([0, 1, 0, 2, 2])


def ece_by_hand(conf: np.ndarray, right: np.ndarray, bins: int = 15) -> tuple[float, float]:
    """Equal-width bins (lo, hi] over [0, 1] (0 in the first); ECE and MCE."""
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    ece, mce = 0.0, 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            gap = abs(right[sel].mean() - conf[sel].mean())
            ece += sel.mean() * gap
            mce = max(mce, gap)
    return ece, mce


def test_nll_and_brier_multiclass():
    p = PROBS.numpy()
    nll = -np.mean([math.log(p[i, y]) for i, y in enumerate(Y.tolist())])
    brier = np.mean(((p - np.eye(3)[Y.numpy()]) ** 2).sum(1))
    assert float(U.nll(PROBS, Y)) == pytest.approx(nll, abs=1e-12)
    assert float(U.brier(PROBS, Y)) == pytest.approx(brier, abs=1e-12)


def test_nll_and_brier_binary_and_multilabel_equal_sklearn():
    p1 = torch.tensor([0.9, 0.2, 0.6, 0.4], dtype=torch.float64)
    y = torch.tensor([1, 0, 0, 1])
    assert float(U.nll(p1, y, "binary")) == pytest.approx(skm.log_loss(y, p1), abs=1e-9)
    assert float(U.brier(p1, y, "binary")) == pytest.approx(skm.brier_score_loss(y, p1), abs=1e-9)
    both = torch.stack([1 - p1, p1], 1)  # (N, 2) is the same binary task
    assert float(U.nll(both, y, "binary")) == pytest.approx(skm.log_loss(y, p1), abs=1e-9)
    ml = torch.tensor([[0.9, 0.1], [0.3, 0.8]], dtype=torch.float64)
    yml = torch.tensor([[1, 0], [1, 1]])
    pairs = ml.reshape(-1).numpy()
    assert float(U.nll(ml, yml, "multilabel")) == pytest.approx(
        skm.log_loss(yml.reshape(-1), pairs), abs=1e-9
    )
    assert float(U.brier(ml, yml, "multilabel")) == pytest.approx(
        np.mean((pairs - yml.reshape(-1).numpy()) ** 2), abs=1e-9
    )


def test_ece_and_mce_multiclass_equal_hand_binning():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 4, generator=g) * 2
    probs = logits.softmax(-1)
    y = torch.randint(0, 4, (200,), generator=g)
    conf, pred = probs.max(1)
    ece, mce = ece_by_hand(conf.numpy().astype(np.float64), (pred == y).numpy().astype(float))
    assert float(U.calibration_error(probs, y)) == pytest.approx(ece, abs=1e-5)
    assert float(U.calibration_error(probs, y, norm="max")) == pytest.approx(mce, abs=1e-5)


def test_confidence_of_exactly_one_falls_in_the_last_bin():
    # two samples: confidence 1.0 (right) and 0.94 (wrong) share the bin (14/15, 1]:
    # its accuracy 0.5 vs confidence 0.97 -> ECE 0.47; torchmetrics alone would bin 1.0 apart
    probs = torch.tensor([[1.0, 0.0], [0.94, 0.06]])
    y = torch.tensor([0, 1])
    assert float(U.calibration_error(probs, y)) == pytest.approx(0.47, abs=1e-6)
    assert float(U.calibration_error(probs, y, norm="max")) == pytest.approx(0.47, abs=1e-6)
    p1 = torch.tensor([1.0, 0.94])  # binary: p(1) against the frequency of 1
    assert float(U.calibration_error(p1, torch.tensor([1, 0]), "binary")) == pytest.approx(0.47, abs=1e-6)


def test_binary_ece_bins_p1_against_frequency_of_one():
    g = torch.Generator().manual_seed(1)
    p1 = torch.rand(300, generator=g)
    y = (torch.rand(300, generator=g) < p1**2).long()
    ece, mce = ece_by_hand(p1.numpy().astype(np.float64), y.numpy().astype(float))
    assert float(U.calibration_error(p1, y, "binary")) == pytest.approx(ece, abs=1e-5)
    assert float(U.calibration_error(p1, y, "binary", "max")) == pytest.approx(mce, abs=1e-5)


def test_entropies_mutual_information_and_disagreement():
    members = torch.tensor(
        [
            [[0.9, 0.1], [0.5, 0.5]],
            [[0.1, 0.9], [0.5, 0.5]],
        ],
        dtype=torch.float64,
    )  # (M=2, N=2, C=2): they disagree on sample 0, agree (unsure) on sample 1

    def h(p: list[float]) -> float:
        return -sum(q * math.log(q) for q in p if q > 0)

    pe = U.predictive_entropy(members)
    ee = U.expected_entropy(members)
    mi = U.mutual_information(members)
    assert pe.tolist() == pytest.approx([h([0.5, 0.5]), h([0.5, 0.5])])
    assert ee.tolist() == pytest.approx([h([0.9, 0.1]), h([0.5, 0.5])])
    assert mi.tolist() == pytest.approx([math.log(2) - h([0.9, 0.1]), 0.0], abs=1e-12)
    # pooled [0.5, 0.5] -> argmax 0: member 1 differs on sample 0; none on sample 1
    assert U.disagreement(members).tolist() == [0.5, 0.0]
    assert float(U.entropy(torch.tensor([1.0, 0.0]))) == 0.0  # 0 log 0 = 0


def test_mutual_information_is_zero_for_identical_members():
    one = torch.tensor([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    members = one.expand(5, -1, -1)
    assert torch.equal(U.mutual_information(members), torch.zeros(3, dtype=torch.float64))
    assert torch.equal(U.disagreement(members), torch.zeros(3, dtype=torch.float64))


def test_aurc_and_selective_accuracy():
    conf = torch.tensor([0.9, 0.8, 0.7, 0.6])
    right = torch.tensor([True, False, True, False])
    # risk among the k most confident: 0/1, 1/2, 1/3, 2/4
    assert float(U.aurc(conf, right)) == pytest.approx((0 + 1 / 2 + 1 / 3 + 2 / 4) / 4)
    assert float(U.selective_accuracy(conf, right, 0.5)) == 0.5
    assert float(U.selective_accuracy(conf, right, 0.25)) == 1.0
    assert float(U.selective_accuracy(conf, right, 0.75)) == pytest.approx(2 / 3)
    assert float(U.selective_accuracy(conf, right, 1.0)) == 0.5
    with pytest.raises(ValueError):
        U.selective_accuracy(conf, right, 0.0)


def test_aurc_does_not_depend_on_the_order_of_tied_confidences():
    """Tied samples count their group's mean error (the expectation over their orders), so
    the ranks' samples gathered in any order give the same value."""
    conf = torch.tensor([1.0, 1.0, 1.0, 0.5])
    right = torch.tensor([True, False, True, True])
    # the three at 1.0 each count an error of 1/3: risks 1/3, 2/6, 3/9, then 1/4
    expected = (1 / 3 + 1 / 3 + 1 / 3 + 1 / 4) / 4
    for perm in ([0, 1, 2, 3], [1, 0, 2, 3], [3, 2, 1, 0], [2, 3, 0, 1]):
        assert float(U.aurc(conf[perm], right[perm])) == pytest.approx(expected, abs=1e-15)


def test_error_detection_auroc():
    right = torch.tensor([True, True, False, False, True])
    entropy = torch.tensor([0.1, 0.5, 0.9, 0.4, 0.2])
    expected = skm.roc_auc_score((~right).numpy(), entropy.numpy())
    assert float(U.error_detection_auroc(entropy, right)) == pytest.approx(expected)
    perfect = torch.tensor([0.1, 0.2, 2.0, 1.5, 0.3])  # above 1: still ranked, not squashed wrong
    assert float(U.error_detection_auroc(perfect, right)) == pytest.approx(1.0)
    assert math.isnan(float(U.error_detection_auroc(entropy, torch.ones(5, dtype=torch.bool))))
