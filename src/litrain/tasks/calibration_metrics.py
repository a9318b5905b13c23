"""Calibration metrics for classification val/test: nll, brier, ece, mce (15 bins), and
aurc (selective prediction: how well the confidence ranks the errors last).

Each is a torchmetrics ``Metric`` fed what a classification task's other metrics get
(``metric_inputs``: probabilities, p(1) 1-D for binary; the targets), so under DDP the states
are gathered (sums, or every confidence for ECE/MCE) and the number equals a 1-process run's.
The formulas live in ``litrain.tasks.uncertainty``."""

from __future__ import annotations

import torch
import torchmetrics as tm
from torch import Tensor

from litrain.tasks import uncertainty as U


class MeanScore(tm.Metric):
    """The sample-weighted mean of a per-split score (float64 sums, reduced by sum)."""

    full_state_update = False
    higher_is_better = False

    def __init__(self, score: str, mode: str) -> None:
        super().__init__()
        self.score, self.mode = score, mode
        self.add_state("total", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        rows = len(U.categorical(preds, target, self.mode)[1])  # (sample, label) pairs
        fn = U.nll if self.score == "nll" else U.brier
        self.total += fn(preds.detach(), target, self.mode).double() * rows
        self.count += rows

    def compute(self) -> Tensor:
        return (self.total / self.count).float()


class CalibrationError(tm.Metric):
    """ECE (``norm="l1"``) or MCE (``norm="max"``) over every confidence of the split, with a
    confidence of exactly 1.0 kept in the last bin (``uncertainty.below_one``)."""

    full_state_update = False
    higher_is_better = False

    def __init__(self, mode: str, norm: str, n_bins: int = U.N_BINS) -> None:
        super().__init__()
        self.mode, self.norm, self.n_bins = mode, norm, n_bins
        self.add_state("probs", [], dist_reduce_fx="cat")
        self.add_state("target", [], dist_reduce_fx="cat")

    def update(self, preds: Tensor, target: Tensor) -> None:
        self.probs.append(preds.detach().float())
        self.target.append(target.detach().long())

    def compute(self) -> Tensor:
        probs = _cat(self.probs)
        target = _cat(self.target)
        return U.calibration_error(probs, target, self.mode, self.norm, self.n_bins).float()


class AURC(CalibrationError):
    """Area under the risk-coverage curve (``uncertainty.aurc``) of the decision's confidence
    over every sample of the split (every (sample, label) pair for multilabel); lower is
    better: the errors are the least confident predictions."""

    def __init__(self, mode: str) -> None:
        super().__init__(mode, "l1")

    def compute(self) -> Tensor:
        conf, right = U.confidence_and_correct(_cat(self.probs), _cat(self.target), self.mode)
        return U.aurc(conf, right).float()


class ReliabilityBins(tm.Metric):
    """The reliability diagram's per-bin sums (``uncertainty.bin_sums``: count, confidence,
    hits), added over batches and ranks; ``compute`` gives the (3, bins) sums."""

    full_state_update = False

    def __init__(self, mode: str, n_bins: int = U.N_BINS) -> None:
        super().__init__()
        self.mode, self.n_bins = mode, n_bins
        self.add_state("sums", torch.zeros(3, n_bins, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        self.sums += U.bin_sums(preds.detach(), target.detach(), self.mode, self.n_bins).to(self.sums.device)

    def compute(self) -> Tensor:
        return self.sums


def _cat(states: list[Tensor] | Tensor) -> Tensor:
    return torch.cat(states) if isinstance(states, list) else states


def calibration_metrics(mode: str) -> dict[str, tm.Metric]:
    """nll, brier, ece, mce and aurc for a classification task of ``mode`` (multiclass,
    binary or multilabel), fed the task's ``metric_inputs`` and targets."""
    return {
        "nll": MeanScore("nll", mode),
        "brier": MeanScore("brier", mode),
        "ece": CalibrationError(mode, "l1"),
        "mce": CalibrationError(mode, "max"),
        "aurc": AURC(mode),
    }
