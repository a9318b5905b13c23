"""``litrain test`` and ``litrain predict --run-dir`` on an ensemble's dir (``ensemble.json``):
every member on the split through its own config, pooled as the ensemble pools; test writes
the pooled metrics beside each member's and the uniform mean's (``test_metrics.json``) and the
reliability diagram; predict writes predictions.csv with the uncertainty columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor

from litrain.core.atomic import atomic_write_json
from litrain.errors import ConfigError
from litrain.tasks import uncertainty as U
from litrain.tasks.classification_files import save_reliability
from litrain.trained.ensemble import Ensemble


def scores(probs: Tensor, targets: Tensor, mode: str) -> dict[str, float]:
    """acc, nll, brier, ece, mce and aurc of (N, C) probabilities (``litrain.tasks.uncertainty``)."""
    conf, right = U.confidence_and_correct(probs, targets, mode)
    return {
        "acc": float(right.double().mean()),
        "nll": float(U.nll(probs, targets, mode)),
        "brier": float(U.brier(probs, targets, mode)),
        "ece": float(U.calibration_error(probs, targets, mode)),
        "mce": float(U.calibration_error(probs, targets, mode, norm="max")),
        "aurc": float(U.aurc(conf, right)),
    }


def _targets(targets: Tensor | None, split: str) -> Tensor:
    if targets is None:
        raise ConfigError(f"litrain test needs targets in the {split} split, and its batches carry none")
    return targets


def test_ensemble(path: str | Path, split: str = "test") -> dict[str, Any]:
    """The pooled ensemble's metrics on ``split`` (``<split>/acc``, ...) and a table of each
    member, the uniform mean and the pooled (weighted, calibrated) ensemble side by side;
    writes ``test_metrics.json`` (``validate_metrics.json`` for val), ``reliability.json`` and
    ``plots/reliability.png`` in the ensemble's dir."""
    ens = Ensemble.open(path)
    mode = ens.task.mode
    members, targets = ens.split_probs(split)
    y = _targets(targets, split)
    pooled = ens.pool(members)
    table = {f"member{i}": scores(p, y, mode) for i, p in enumerate(members)}
    table["uniform"] = scores(members.mean(0), y, mode)
    table["ensemble"] = scores(pooled, y, mode)
    unc = U.uncertainty_columns(members, ens.weights, mode)
    _, right = U.confidence_and_correct(pooled, y, mode)
    metrics = {f"{split}/{k}": v for k, v in table["ensemble"].items()}
    metrics[f"{split}/mutual_information"] = float(unc["mutual_information"].mean())
    if mode != "multilabel":  # one decision per sample: which uncertainty flags the errors
        for key in ("predictive_entropy", "mutual_information"):
            metrics[f"{split}/error_auroc_{key}"] = float(U.error_detection_auroc(unc[key], right))
    base = Path(path)
    stage = "validate" if split == "val" else "test"
    record = {"checkpoint": "ensemble", "split": split, "metrics": metrics, "table": table}
    atomic_write_json(base / f"{stage}_metrics.json", record)
    curves = {
        "uniform mean": U.reliability_bins(members.mean(0), y, mode),
        "ensemble": U.reliability_bins(pooled, y, mode),
    }
    save_reliability(curves, base, "reliability")
    return metrics


def predict_ensemble(path: str | Path, out: Path, split: str = "test") -> Path:
    """predictions.csv of the pooled ensemble on ``split``: the pooled probabilities, then per
    sample predictive entropy, expected entropy, mutual information and disagreement of
    the members (``uncertainty.uncertainty_columns``, weighted as the ensemble pools)."""
    ens = Ensemble.open(path)
    members, targets = ens.split_probs(split)
    pooled = ens.pool(members)
    columns = U.uncertainty_columns(members, ens.weights, ens.task.mode)
    names = ens.class_names or [str(i) for i in range(pooled.shape[1])]
    return ens.task.write_predictions(out, pooled, targets, names, extra=columns)
