"""finetune.prune in a fit: both engines prune the same weights (bit-identical checkpoints),
the prunable weights reach the asked sparsity and keep it, train/sparsity is logged each
epoch, a resumed run prunes exactly as an uninterrupted one, and the export is sparse."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

import litrain
from helpers import TINY, bare_weights, tiny_fit

PRUNE = {"finetune.prune.amount": 0.5, "finetune.prune.schedule": "gradual", "finetune.prune.ramp_epochs": 2}
PRUNABLE = ("1.weight", "3.weight")  # the digits MLP's hidden layers; 5.weight is its output layer


def _sparsity(weights: dict[str, torch.Tensor]) -> float:
    return sum(int((weights[k] == 0).sum()) for k in PRUNABLE) / sum(weights[k].numel() for k in PRUNABLE)


def _logged_sparsity(run: Path) -> list[float]:
    with (run / "logs" / "metrics.csv").open(newline="") as f:
        return [float(r["train/sparsity"]) for r in csv.DictReader(f) if r.get("train/sparsity")]


def test_both_engines_prune_the_same_weights_to_the_asked_sparsity(tmp_path: Path) -> None:
    runs = {e: tmp_path / e for e in ("lightning", "native")}
    for engine, run in runs.items():
        result = tiny_fit(run, engine, **PRUNE)
        assert result.metrics["train/sparsity"] == 0.5
        # the cubic ramp: 0.5 * (1 - 0.5**3) after epoch 0, all of it at epoch 1
        assert _logged_sparsity(run) == pytest.approx([0.4375, 0.5], abs=1e-6)
    lightning, native = (bare_weights(r) for r in runs.values())
    assert all(torch.equal(lightning[k], native[k]) for k in native)
    assert _sparsity(native) == 0.5
    assert int((native["5.weight"] == 0).sum()) == 0  # the output layer is whole


def test_a_resumed_run_prunes_as_an_uninterrupted_one_and_exports_sparse(tmp_path: Path) -> None:
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    flat = {**PRUNE, "optim.scheduler.name": "none"}  # the lr does not depend on max_epochs
    tiny_fit(whole, **flat)
    tiny_fit(parts, **{**flat, "trainer.max_epochs": 1})
    litrain.fit(run_dir=parts, resume="last", quiet=True, **{**TINY, **flat})
    a, b = bare_weights(whole), bare_weights(parts)
    assert all(torch.equal(a[k], b[k]) for k in a)
    exported = litrain.api.export(run_dir=whole, format="safetensors")
    from safetensors.torch import load_file

    weights = {k.removeprefix("model."): v for k, v in load_file(str(exported)).items()}
    assert _sparsity(weights) == 0.5
