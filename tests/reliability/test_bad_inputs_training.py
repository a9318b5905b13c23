"""Bad training options (early stopping on a metric the run cannot log, an unknown compile
mode) end in one ``litrain: error:`` line, exit 2, no traceback, with a finished run beside
them left byte-identical."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import snapshot, user_error

import litrain


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("bad_training") / "finished"
    litrain.fit(run_dir=run, quiet=True, **{"trainer.max_epochs": 1, "trainer.limit_train_batches": 2})
    return run


FAST = ["--epochs", "1", "--trainer.limit_train_batches", "2", "--quiet"]
ES = ["--set", "early_stopping.enabled=true"]
CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "early stopping on val/acc with --val-split 0": (
        lambda new: ["fit", "--run-dir", str(new), "--val-split", "0", *ES, "--set", "early_stopping.monitor=val/acc", *FAST],
        "early_stopping.monitor=val/acc is never logged in this run (this run has no validation data)",
    ),
    "early stopping on a metric the task has not": (
        lambda new: ["fit", "--run-dir", str(new), *ES, "--set", "early_stopping.monitor=val/nrmse", *FAST],
        "early_stopping.monitor=val/nrmse is never logged in this run: choose one of",
    ),
    "native: early stopping on the task's monitor with --val-split 0": (
        lambda new: ["fit", "--engine", "native", "--run-dir", str(new), "--val-split", "0", *ES, *FAST],
        "early_stopping.monitor=val/acc is never logged",
    ),
    "unknown compile mode": (
        lambda new: ["fit", "--run-dir", str(new), "--trainer.compile_mode", "fastest", *FAST],
        "trainer.compile_mode",
    ),
    "compile_dynamic not a bool": (
        lambda new: ["fit", "--run-dir", str(new), "--trainer.compile_dynamic", "sometimes", *FAST],
        "trainer.compile_dynamic",
    ),
    "pruning with EMA": (
        lambda new: ["fit", "--run-dir", str(new), "--finetune.prune.amount", "0.5", "--set", "trainer.ema.enabled=true", *FAST],
        "finetune.prune and trainer.ema cannot be combined: the EMA weights would not be sparse; drop one of them",
    ),
    "pruning all weights": (
        lambda new: ["fit", "--run-dir", str(new), "--finetune.prune.amount", "1", *FAST],
        "finetune.prune.amount",
    ),
    "pruning a model with no hidden layer": (
        lambda new: ["fit", "--run-dir", str(new), "--finetune.prune.amount", "0.5", "--set", "model.hidden=[]", *FAST],
        "finetune.prune: the model has no Linear or Conv layer besides its output layer to prune",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_training_input(case: str, finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = finished.parent / "new" / case.replace(" ", "_").replace(":", "")
    argv, expected = CASES[case][0](new), CASES[case][1]
    before = snapshot(finished)
    message, err = user_error(argv, capsys)
    assert expected in message, err
    assert not list(new.rglob("*.ckpt"))  # refused before training
    assert snapshot(finished) == before
