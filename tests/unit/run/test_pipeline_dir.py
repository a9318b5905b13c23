"""Where a pipeline runs: the given dir (absolute), the newest pipeline for --resume last, a
refusal to mix a pipeline into a single run's dir, and when a stage counts as finished."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from litrain.config import load_config
from litrain.errors import ConfigError
from litrain.run.pipeline import pipeline_dir
from litrain.run.stages import finished


def test_resume_last_picks_the_newest_pipeline(tmp_path: Path) -> None:
    cfg = load_config(overrides={"run.name": "p"})
    for stamp in ("20260101-000000", "20260102-000000"):
        (tmp_path / "runs" / "p" / stamp).mkdir(parents=True)
        (tmp_path / "runs" / "p" / stamp / "pipeline.json").write_text("{}")
    (tmp_path / "runs" / "p" / "20260103-000000").mkdir()  # no pipeline.json: not one
    assert pipeline_dir(cfg, None, "last", False) == tmp_path / "runs" / "p" / "20260102-000000"
    assert pipeline_dir(cfg, "rel", None, False) == tmp_path / "rel"


def test_resume_last_without_a_pipeline_and_a_single_runs_dir(tmp_path: Path) -> None:
    cfg = load_config(overrides={"run.name": "p"})
    with pytest.raises(ConfigError, match="--resume last: no earlier pipeline under runs/p; pass --run-dir"):
        pipeline_dir(cfg, None, "last", False)
    (tmp_path / "single").mkdir()
    (tmp_path / "single" / "summary.json").write_text("{}")
    with pytest.raises(ConfigError, match="holds a single run, not a pipeline"):
        pipeline_dir(cfg, tmp_path / "single", None, False)


@pytest.mark.parametrize(
    ("summary", "done"),
    [
        ({"stop_reason": "max_epochs reached", "epochs": 2}, True),
        ({"preempted": True, "stop_reason": "x"}, False),
        (None, False),
    ],
)
def test_finished_is_a_completed_summary(tmp_path: Path, summary: dict | None, done: bool) -> None:
    if summary is not None:
        (tmp_path / "summary.json").write_text(json.dumps(summary))
    assert finished(tmp_path) is done
