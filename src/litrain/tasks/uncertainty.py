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
    k most confident samples (lower is better). Samples of equal confidence (common: many
    probabilities are exactly 1.0 in float32) have no order, so each counts its group's mean
    error, the expectation over their orders: the value does not depend on the order the
    samples came in (under DDP, the order the ranks' samples are gathered in)."""
    conf = confidence.double()
    order = torch.sort(conf, descending=True, stable=True).indices
    errors = 1 - correct.double()[order]
    _, group, sizes = torch.unique_consecutive(conf[order], return_inverse=True, return_counts=True)
    mean_error = torch.zeros(len(sizes), dtype=torch.float64).index_add_(0, group, errors) / sizes
    k = torch.arange(1, len(errors) + 1, dtype=torch.float64)
    return (mean_error[group].cumsum(0) / k).mean()


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


def uncertainty_columns(
    members: Tensor, weights: Tensor | None = None, mode: str = "multiclass"
) -> dict[str, Tensor]:
    """The per-sample uncertainty of (M, N, C) member (or MC dropout pass) probabilities, as
    predictions.csv writes it: ``predictive_entropy`` (of the pooled probabilities),
    ``expected_entropy`` (the members' mean entropy: aleatoric), ``mutual_information``
    (their difference: epistemic) and ``disagreement``. ``weights`` (M,) on the simplex pool
    the members (default uniform, the functions above). Multilabel sums each label's two-class
    entropy."""
    m = members.double()
    if mode == "multilabel":
        m = torch.stack([1 - m, m], dim=-1)  # (M, N, K, 2)
    w = (
        torch.full((m.shape[0],), 1 / m.shape[0], dtype=torch.float64)
        if weights is None
        else weights.double()
    )
    w = w.reshape(-1, *([1] * (m.ndim - 1)))
    pooled = (w * m).sum(0)
    total = entropy(pooled)
    expected = (w[..., 0] * entropy(m)).sum(0)
    if mode == "multilabel":
        total, expected = total.sum(-1), expected.sum(-1)
        agree = (m.argmax(-1) != pooled.argmax(-1)[None]).double().mean(-1)  # (M, N) share of labels
    else:
        agree = (m.argmax(-1) != pooled.argmax(-1)[None]).double()
    return {
        "predictive_entropy": total,
        "expected_entropy": expected,
        "mutual_information": (total - expected).clamp_min(0.0),
        "disagreement": agree.mean(0),  # the share of members (unweighted) against the pooled label
    }


def confidence_and_correct(probs: Tensor, targets: Tensor, mode: str = "multiclass") -> tuple[Tensor, Tensor]:
    """(confidence of the decision, whether it is right) per sample (per (sample, label)
    pair for binary p(1) and multilabel): what AURC and selective accuracy rank."""
    rows, y = categorical(probs, targets, mode)
    conf, pred = rows.max(-1)
    return conf, pred == y


def bin_sums(probs: Tensor, targets: Tensor, mode: str = "multiclass", n_bins: int = N_BINS) -> Tensor:
    """(3, n_bins) per bin: sample count, sum of confidences, sum of hits, binned as ECE is
    (equal-width bins of the top-class confidence, or of p(1) against the frequency of 1 for
    binary and multilabel; 1.0 in the last bin). Sums, so batches and ranks add up."""
    if mode == "multiclass":
        conf, pred = probs.double().max(-1)
        hit = (pred == targets.long().reshape(-1)).double()
    else:
        conf = (probs[:, 1] if mode == "binary" and probs.ndim == 2 else probs).double().reshape(-1)
        hit = targets.double().reshape(-1)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64, device=conf.device)
    idx = (torch.bucketize(below_one(conf), edges, right=True) - 1).clamp(0, n_bins - 1)
    out = torch.zeros(3, n_bins, dtype=torch.float64, device=conf.device)
    for row, values in enumerate((torch.ones_like(conf), conf, hit)):
        out[row].index_add_(0, idx, values)
    return out


def bins_record(sums: Tensor, mode: str = "multiclass") -> dict:
    """The reliability diagram's numbers from :func:`bin_sums`: per bin its range, sample
    count, mean confidence and accuracy (frequency of 1), and the ECE and MCE they give
    (those of :func:`calibration_error`)."""
    count, conf_sum, hit_sum = sums.double().cpu()
    n_bins = len(count)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    seen = count > 0
    mean_conf = conf_sum / count.clamp_min(1)
    accuracy = hit_sum / count.clamp_min(1)
    gap = (accuracy - mean_conf).abs()
    return {
        "mode": mode,
        "n_bins": n_bins,
        "samples": int(count.sum()),
        "bins": [
            {
                "lower": float(edges[i]),
                "upper": float(edges[i + 1]),
                "count": int(count[i]),
                "confidence": float(mean_conf[i]) if seen[i] else None,
                "accuracy": float(accuracy[i]) if seen[i] else None,
            }
            for i in range(n_bins)
        ],
        "ece": float((count[seen] / count.sum().clamp_min(1) * gap[seen]).sum()),
        "mce": float(gap[seen].max()) if seen.any() else 0.0,
    }


def reliability_bins(probs: Tensor, targets: Tensor, mode: str = "multiclass", n_bins: int = N_BINS) -> dict:
    """:func:`bins_record` of ``probs`` against ``targets``."""
    return bins_record(bin_sums(probs, targets, mode, n_bins), mode)
