"""A sweep trial's report (run/trial.py) in both engines: told the metrics after every
validation epoch, and a reason back stops the fit there, as early stopping does (summary.json
says why, last.ckpt is written)."""

from __future__ import annotations

import json

import pytest

from helpers import TINY
from litrain.config import load_config
from litrain.registry import ENGINES
from litrain.run.lifecycle import fit_run


class Report:
    def __init__(self, stop_at: int | None) -> None:
        self.stop_at = stop_at
        self.seen: list[tuple[int, float]] = []

    def report(self, epoch, metrics):
        self.seen.append((epoch, metrics["val/acc"]))
        return f"trial 7 pruned at epoch {epoch}" if epoch == self.stop_at else None


def _fit(tmp_path, engine, report):
    cfg = load_config(overrides={**TINY, "trainer.max_epochs": 3, "run.engine": engine})
    eng = ENGINES.get(engine)()
    eng.trial = report
    return fit_run(cfg, eng, run_dir=tmp_path / engine, quiet=True)


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_every_validation_epoch_is_reported_and_a_reason_stops_the_fit(tmp_path, engine):
    report = Report(stop_at=1)
    result = _fit(tmp_path, engine, report)
    history = json.loads((result.run_dir / "history.json").read_text())
    # epochs 0 and 1 told, with the values the run logged; epoch 2 never trained
    assert [e for e, _ in report.seen] == [0, 1]
    assert [v for _, v in report.seen] == pytest.approx([h["val/acc"] for h in history])
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["stopped_early"] is True and summary["stop_reason"] == "trial 7 pruned at epoch 1"
    assert summary["epochs"] == 2
    assert (result.run_dir / "checkpoints" / "last.ckpt").is_file()
