"""The focal loss equals its formula FL = -alpha_t (1 - p_t)^gamma log p_t, term by term,
and is plain cross-entropy at gamma 0."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from litrain.config import TaskConfig
from litrain.errors import ConfigError
from litrain.registry import LOSSES


def _logits(n=7, c=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g) * 2, torch.randint(0, c, (n,), generator=g)


def direct_softmax_focal(logits, y, gamma, alpha=None):
    total = 0.0
    for row, label in zip(logits.tolist(), y.tolist(), strict=True):
        p = math.exp(row[label]) / sum(math.exp(v) for v in row)
        a = 1.0 if alpha is None else alpha[label]
        total += -a * (1 - p) ** gamma * math.log(p)
    return total / len(y)


def direct_sigmoid_focal(logits, y, gamma, alpha=None):
    terms = []
    for z, t in zip(logits.flatten().tolist(), y.flatten().tolist(), strict=True):
        p = 1 / (1 + math.exp(-z))
        p_t = p if t == 1 else 1 - p
        a = 1.0 if alpha is None else (alpha if t == 1 else 1 - alpha)
        terms.append(-a * (1 - p_t) ** gamma * math.log(p_t))
    return sum(terms) / len(terms)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0, 3.5])
def test_softmax_focal_is_the_formula(gamma):
    logits, y = _logits()
    loss = LOSSES.get("focal")(TaskConfig(loss="focal", focal_gamma=gamma))(logits, y)
    assert float(loss) == pytest.approx(direct_softmax_focal(logits, y, gamma), rel=1e-5)


def test_softmax_focal_with_per_class_alpha_and_with_class_weights():
    logits, y = _logits()
    alpha = [0.5, 1.0, 2.0, 0.25]
    by_alpha = LOSSES.get("focal")(TaskConfig(loss="focal", focal_alpha=alpha))(logits, y)
    by_weights = LOSSES.get("focal")(TaskConfig(loss="focal", class_weights=alpha))(logits, y)
    expected = direct_softmax_focal(logits, y, 2.0, alpha)
    assert float(by_alpha) == pytest.approx(expected, rel=1e-5)
    assert float(by_weights) == float(by_alpha)  # class weights are the focal loss's alpha


def test_gamma_zero_is_cross_entropy():
    logits, y = _logits()
    focal = LOSSES.get("focal")(TaskConfig(loss="focal", focal_gamma=0.0))(logits, y)
    torch.testing.assert_close(focal, F.cross_entropy(logits, y))
    logits, y = torch.randn(6, 3), torch.randint(0, 2, (6, 3)).float()
    cfg = TaskConfig(type="multilabel", loss="focal", focal_gamma=0.0)
    torch.testing.assert_close(
        LOSSES.get("focal")(cfg)(logits, y), F.binary_cross_entropy_with_logits(logits, y)
    )


@pytest.mark.parametrize(("gamma", "alpha"), [(2.0, None), (2.0, 0.25), (0.5, 0.8)])
def test_sigmoid_focal_is_the_formula(gamma, alpha):
    g = torch.Generator().manual_seed(1)
    logits, y = torch.randn(5, 3, generator=g), torch.randint(0, 2, (5, 3), generator=g)
    cfg = TaskConfig(type="multilabel", loss="focal", focal_gamma=gamma, focal_alpha=alpha)
    loss = LOSSES.get("focal")(cfg)(logits, y)
    assert float(loss) == pytest.approx(direct_sigmoid_focal(logits, y, gamma, alpha), rel=1e-5)


def test_binary_focal_takes_class_weights_as_alpha():
    """Binary [w0, w1] weigh positives w1 / (w0 + w1) and negatives w0 / (w0 + w1)."""
    g = torch.Generator().manual_seed(2)
    logits, y = torch.randn(8, 1, generator=g), torch.randint(0, 2, (8,), generator=g)
    cfg = TaskConfig(type="binary", loss="focal", class_weights=[1.0, 3.0])
    loss = LOSSES.get("focal")(cfg)(logits, y)
    assert float(loss) == pytest.approx(direct_sigmoid_focal(logits, y, 2.0, 0.75), rel=1e-5)


def test_focal_options_are_checked():
    with pytest.raises(ValueError, match="label smoothing"):
        TaskConfig(loss="focal", label_smoothing=0.1)
    with pytest.raises(ValueError, match="set task.loss focal"):
        TaskConfig(focal_alpha=[1.0, 2.0])
    with pytest.raises(ValueError, match="both weight the classes"):
        TaskConfig(loss="focal", focal_alpha=[1.0], class_weights="inverse")
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        TaskConfig(type="binary", loss="focal", focal_alpha=1.5)
    with pytest.raises(ConfigError, match="one weight per class"):
        LOSSES.get("focal")(TaskConfig(loss="focal", focal_alpha=0.25))
