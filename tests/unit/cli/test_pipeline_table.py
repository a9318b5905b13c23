"""The pipeline's table: a pruned stage's sparsity beside its metric, no column without one."""

from __future__ import annotations

import pytest

from litrain.cli.report import print_pipeline


def _stage(name: str, best: float, **extra: float) -> dict:
    return {
        "name": name,
        "status": "finished",
        "monitor": "val/acc",
        "best_metric": best,
        "epochs": 4,
        **extra,
    }


def test_a_pruned_stage_shows_its_sparsity_beside_its_metric(capsys: pytest.CaptureFixture[str]) -> None:
    stages = [_stage("train", 0.9749), _stage("prune", 0.9721, sparsity=0.5)]
    print_pipeline({"run_dir": "runs/p", "stages": stages}, quiet=False)
    rows = {line.split("│")[1].strip(): line for line in capsys.readouterr().out.splitlines() if "│" in line}
    assert "50.0%" in rows["prune"] and "0.9721" in rows["prune"]
    assert "%" not in rows["train"]


def test_no_sparsity_column_without_pruning(capsys: pytest.CaptureFixture[str]) -> None:
    print_pipeline({"run_dir": "runs/p", "stages": [_stage("train", 0.97)]}, quiet=False)
    assert "sparsity" not in capsys.readouterr().out
