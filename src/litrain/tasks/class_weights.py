"""Class weights from the training split's class counts (``task.class_weights``, and each
multi-task head's).

- ``inverse``: ``w_c = N / (C * n_c)``, so every class weighs in as much as a balanced data set
  would (N samples, C classes present).
- ``effective_number`` (Cui et al. 2019, "Class-Balanced Loss Based on Effective Number of
  Samples"): ``w_c`` proportional to ``(1 - beta) / (1 - beta^n_c)``, normalized to sum to C.
  beta = 0 gives equal weights; beta -> 1 approaches inverse frequency.
- ``auto``: effective_number with ``beta = 1 - 1/N``. Then ``beta^n_c ~ exp(-n_c / N)``, so
  the weights depend only on the class frequencies, not on the data set's size: inverse
  frequency for rare classes, softened for common ones (the paper's point against plain
  inverse weights), and the same imbalance gets the same weights with 1k or 1M samples. A
  fixed beta (0.999) is close to inverse frequency on 1k samples and to equal weights on 10M.

A class without training samples gets weight 0 (it never is a target to weigh), and C counts
the classes present.

Binary and multilabel losses weigh each label's positives against its negatives: label k's
two-class weights ``(w_neg, w_pos)`` from its counts ``(N - P_k, P_k)`` become its positive
weight ``w_pos / w_neg`` (BCE's ``pos_weight``; for inverse weights ``(N - P_k) / P_k``, the
ratio PyTorch's docs suggest). So ``class_weights`` resolves to: one weight per class
(multiclass), ``[w_0, w_1]`` (binary) or one positive weight per label (multilabel).
"""

from __future__ import annotations

from typing import Any

from litrain.errors import ConfigError


def weights_from_counts(counts: list[int], rule: str, beta: float = 0.999) -> list[float]:
    """Per-class weights by ``rule`` (inverse, effective_number, auto) from class counts."""
    present = [n for n in counts if n > 0]
    total, classes = sum(present), len(present)
    if not classes:
        return [0.0 for _ in counts]
    if rule == "inverse":
        return [total / (classes * n) if n > 0 else 0.0 for n in counts]
    if rule == "auto":
        beta = 1.0 - 1.0 / total
    elif rule != "effective_number":
        raise ValueError(f"unknown class weight rule {rule!r}")
    raw = [(1.0 - beta) / (1.0 - beta**n) if n > 0 else 0.0 for n in counts]
    scale = classes / sum(raw)
    return [w * scale for w in raw]


def positive_weight(negatives: int, positives: int, rule: str, beta: float) -> float:
    """One label's ``w_pos / w_neg``; 1 when a side is empty (nothing to balance)."""
    w_neg, w_pos = weights_from_counts([negatives, positives], rule, beta)
    return w_pos / w_neg if w_neg > 0 and w_pos > 0 else 1.0


def resolve_class_weights(
    cfg: Any, mode: str, classes: int, counts: list[int], samples: int, key: str
) -> tuple[list[float] | None, str | None]:
    """``cfg.class_weights`` (a task's or a head's) as numbers for a ``mode`` (multiclass,
    binary, multilabel) loss with ``classes`` classes (labels), and the line that reports
    them (None when given as numbers or not at all). ``counts`` are the training split's:
    samples per class, or positives per label (multilabel) of ``samples`` samples."""
    given = cfg.class_weights
    if given is None:
        return None, None
    expected = 2 if mode == "binary" else classes
    if isinstance(given, list):
        if len(given) != expected:
            what = {"multiclass": "one per class", "binary": "[negative, positive]"}.get(
                mode, "one positive weight per label"
            )
            raise ConfigError(
                f"{key}.class_weights has {len(given)} values but the data has {expected} "
                f"{'labels' if mode == 'multilabel' else 'classes'}: give {expected} ({what})"
            )
        return [float(w) for w in given], None
    if not counts:
        raise ConfigError(
            f"{key}.class_weights={given} computes weights from the training split's class counts, "
            "but this data does not give them (streamed shards): give the weights as a list"
        )
    beta = cfg.class_weight_beta
    if mode == "multilabel":
        weights = [positive_weight(samples - p, p, given, beta) for p in counts]
        what = "positive weight per label"
    else:
        counts = (list(counts) + [0] * expected)[:expected]
        weights = weights_from_counts(counts, given, beta)
        what = "weight per class"
    rule = f"{given}, beta={beta:g}" if given == "effective_number" else given
    shown = ", ".join(f"{w:.4g}" for w in weights)
    line = f"{key}.class_weights ({rule}) from the training split's counts {counts}: {what} [{shown}]"
    return weights, line
