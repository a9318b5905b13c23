"""Uncertainty and calibration as pure functions of probabilities (no state, no model).

Shapes: ``probs`` is (N, C) class probabilities (rows sum to 1); a binary task's p(1) may be
given 1-D (N,) and a multilabel task's (N, K) with ``mode="multilabel"``: both are read as
independent two-class problems ((N·K, 2) rows). ``members`` is (M, N, C): M models' class
probabilities on the same N samples. Targets are class indices (N,) or 0/1 (N,)/(N, K).

The metrics (val/test, ``litrain.tasks.calibration_metrics``) and the ensemble and MC dropout
predictions all compute their numbers here, so each formula is written once."""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchmetrics.functional.classification import (
    binary_auroc,
    binary_calibration_error,
    multiclass_calibration_error,
)

EPS = 1e-12  # log(0) guard: a probability of exactly 0 on the true class costs -log(1e-12)
N_BINS = 15  # the calibration literature's usual bin count for ECE/MCE


def categorical(probs: Tensor, targets: Tensor, mode: str = "multiclass") -> tuple[Tensor, Tensor]:
    """(rows (R, C) of class probabilities, (R,) class indices): multiclass as given; binary
    p(1) (N,) or (N, 2) and multilabel (N, K) as two-class rows [1 - p, p]."""
    probs = probs.double()
    targets = targets.long()
    if mode == "multiclass" or (mode == "binary" and probs.ndim == 2 and probs.shape[-1] == 2):
        return probs, targets.reshape(-1)
    p = probs.reshape(-1)
    return torch.stack([1 - p, p], dim=-1), targets.reshape(-1)


def nll(probs: Tensor, targets: Tensor, mode: str = "multiclass") -> Tensor:
    """Mean negative log-likelihood of the targets: -mean log p(y) (binary/multilabel: the
    mean binary cross-entropy over (sample, label) pairs)."""
    rows, y = categorical(probs, targets, mode)
    return -rows.gather(1, y[:, None]).clamp_min(EPS).log().mean()


def brier(probs: Tensor, targets: Tensor, mode: str = "multiclass") -> Tensor:
    """Brier score: multiclass the mean over samples of sum_c (p_c - 1[y = c])^2 (Brier 1950,
    range 0-2); binary and multilabel the mean (p - y)^2 over (sample, label) pairs
    (scikit-learn's ``brier_score_loss``, range 0-1)."""
    rows, y = categorical(probs, targets, mode)
    onehot = torch.nn.functional.one_hot(y, rows.shape[-1]).double()
    per_row = ((rows - onehot) ** 2).sum(-1)
    return per_row.mean() if mode == "multiclass" else per_row.mean() / 2


def below_one(probs: Tensor) -> Tensor:
    """``probs`` with 1.0 moved to the largest float below it: torchmetrics' binning puts a
    confidence of exactly 1.0 in a bin past the last one (torchmetrics#3510), where it is
    measured alone; below 1.0 it lands in the last bin [14/15, 1] as it should."""
    top = torch.nextafter(torch.ones((), dtype=probs.dtype), torch.zeros((), dtype=probs.dtype))
    return probs.clamp(max=top.item())


def calibration_error(
    probs: Tensor, targets: Tensor, mode: str = "multiclass", norm: str = "l1", n_bins: int = N_BINS
) -> Tensor:
    """ECE (``norm="l1"``: the bin-size-weighted mean |accuracy - confidence| over equal-width
    bins of the top-class confidence) or MCE (``norm="max"``: the largest bin gap).
    Binary and multilabel bin p(1) against the frequency of 1 (torchmetrics' binary form)."""
    if mode == "multiclass":
        return multiclass_calibration_error(
            below_one(probs.float()), targets.long(), probs.shape[-1], n_bins=n_bins, norm=norm
        )
    p1 = probs[:, 1] if mode == "binary" and probs.ndim == 2 else probs
    return binary_calibration_error(
        below_one(p1.float().reshape(-1)), targets.long().reshape(-1), n_bins, norm
    )


def entropy(probs: Tensor) -> Tensor:
    """Shannon entropy (nats) over the last dim: -sum p log p, with 0 log 0 = 0."""
    p = probs.double()
    return -(p * p.clamp_min(EPS).log()).sum(-1)


def predictive_entropy(members: Tensor) -> Tensor:
    """(N,) entropy of the pooled (mean) probabilities of (M, N, C) members: total uncertainty."""
    return entropy(members.double().mean(0))


def expected_entropy(members: Tensor) -> Tensor:
    """(N,) the members' mean entropy: the aleatoric part (what every member is unsure of)."""
    return entropy(members.double()).mean(0)


def mutual_information(members: Tensor) -> Tensor:
    """(N,) predictive minus expected entropy: the epistemic part, where members disagree;
    0 for identical members (rounding below 0 is clipped)."""
    return (predictive_entropy(members) - expected_entropy(members)).clamp_min(0.0)


def disagreement(members: Tensor) -> Tensor:
    """(N,) the fraction of members whose top class differs from the pooled top class."""
    pooled = members.double().mean(0).argmax(-1)
    return (members.argmax(-1) != pooled[None]).double().mean(0)


def _by_confidence(confidence: Tensor, correct: Tensor) -> Tensor:
    """``correct`` (as floats) ordered from the most to the least confident sample (stable)."""
    order = torch.sort(confidence.double(), descending=True, stable=True).indices
    return correct.double()[order]


def aurc(confidence: Tensor, correct: Tensor) -> Tensor:
    """Area under the risk-coverage curve: the mean over k = 1..N of the error rate among the
    k most confident samples (lower is better; ties keep the input order)."""
    right = _by_confidence(confidence, correct)
    k = torch.arange(1, len(right) + 1, dtype=torch.float64)
    return ((1 - right).cumsum(0) / k).mean()


def selective_accuracy(confidence: Tensor, correct: Tensor, coverage: float) -> Tensor:
    """Accuracy on the ceil(coverage · N) most confident samples (at least one)."""
    if not 0.0 < coverage <= 1.0:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    right = _by_confidence(confidence, correct)
    k = max(1, math.ceil(coverage * len(right)))
    return right[:k].mean()


def error_detection_auroc(uncertainty: Tensor, correct: Tensor) -> Tensor:
    """AUROC of ``uncertainty`` (entropy, mutual information, ...) as a detector of wrong
    predictions: 1 when every error is more uncertain than every right answer, 0.5 at chance;
    NaN when there are no errors or no right answers (nothing to separate)."""
    wrong = (~correct.bool()).long()
    if wrong.min() == wrong.max():
        return torch.tensor(float("nan"), dtype=torch.float64)
    return binary_auroc(uncertainty.double(), wrong).double()
