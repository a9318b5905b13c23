"""The bad-input matrix for regression: a model whose output cannot be the target (both
shapes named), NaN/Inf targets (the sample named), float targets with a classification
task, the losses of the other kind, augmenting inputs whose targets are fields. Each ends
in exactly one ``litrain: error:`` line, exit code 2, no traceback, before training."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from reliability_helpers import user_error


def _npz(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x.astype(np.float32), y=y.astype(np.float32))
    return path


def _fields(root: Path, x_shape=(24, 3, 16), y_shape=(24, 2, 16)) -> Path:
    g = np.random.default_rng(0)
    return _npz(root / "f.npz", g.normal(size=x_shape), g.normal(size=y_shape))


def _scalars(root: Path, nan_at: int | None = None) -> Path:
    g = np.random.default_rng(0)
    y = g.normal(size=24)
    if nan_at is not None:
        y[nan_at] = np.nan
    return _npz(root / "s.npz", g.normal(size=(24, 4)), y)


def _split_files(root: Path) -> Path:
    """train.npz is clean, val.npz holds an infinite target at sample 3."""
    g = np.random.default_rng(0)
    _npz(root / "data" / "train.npz", g.normal(size=(16, 4)), g.normal(size=(16, 2)))
    y = g.normal(size=(8, 2))
    y[3, 1] = np.inf
    _npz(root / "data" / "val.npz", g.normal(size=(8, 4)), y)
    return root / "data"


REGRESSION = ["--set", "task.type=regression"]
Case = tuple[Callable[[Path], list[str]], str]
CASES: dict[str, Case] = {
    "mlp cannot give a field": (
        lambda r: ["--data-dir", str(_fields(r)), *REGRESSION],
        "model mlp gives (B, 2), task needs (B, 2, 16) or (B, 32)",
    ),
    "a module giving other channels": (
        lambda r: ["--data-dir", str(_fields(r)), *REGRESSION, "--set", "model.class_path=torch.nn.Identity"],
        "gives (B, 3, 16), task needs (B, 2, 16) or (B, 32)",
    ),
    "NaN target": (
        lambda r: ["--data-dir", str(_scalars(r, nan_at=5)), *REGRESSION],
        "s.npz: y of sample 5 holds NaN or infinite values",
    ),
    "Inf target in the val file": (
        lambda r: ["--data-dir", str(_split_files(r)), *REGRESSION],
        "val.npz: y of sample 3 holds NaN or infinite values",
    ),
    "float targets with classification": (
        lambda r: ["--data-dir", str(_scalars(r))],
        "task.type=classification needs integer class labels, but the data's targets are real "
        "numbers: set task.type regression",
    ),
    "ce with regression": (
        lambda r: ["--data-dir", str(_scalars(r)), *REGRESSION, "--set", "task.loss=ce"],
        "task.loss=ce is a classification loss",
    ),
    "augmenting field targets": (
        lambda r: [
            "--data-dir",
            str(_fields(r, (24, 1, 8, 8), (24, 1, 8, 8))),
            *REGRESSION,
            "--set",
            "data.augment=flip",
        ],
        "data.augment=flip flips/crops the inputs but not the target fields",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_regression_input(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, expected = CASES[case]
    run_dir = tmp_path / "run"
    argv = ["fit", "--dataset", "arrays", *make(tmp_path), "--run-dir", str(run_dir), "--quiet"]
    message, err = user_error(argv, capsys)
    assert expected in message, err
    assert not run_dir.exists()  # refused before training: no run dir left behind


def test_a_regression_loss_with_classification(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["fit", "--set", "task.loss=mse", "--run-dir", str(tmp_path / "run"), "--quiet"]  # digits
    message, err = user_error(argv, capsys)
    assert "task.loss=mse is a regression loss and task.type=classification learns class labels" in message, (
        err
    )
