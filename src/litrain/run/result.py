"""What a run returns (RunResult) and the one summary.json builder both engines share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.core.versions import versions
from litrain.launch.environment import launch_layout


@dataclass
class RunResult:
    metrics: dict[str, float]
    run_dir: Path
    config: Config
    best_checkpoint: str | None = None
    last_checkpoint: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    output: Path | None = None  # predict: predictions.csv


@dataclass
class FitOutcome:
    """What an engine's loop reports when it ends (the lifecycle turns it into summary.json)."""

    metrics: dict[str, float]
    best_metric: float | None
    best_checkpoint: str | None
    last_checkpoint: str | None
    epochs: int
    steps: int
    extra: dict[str, Any] = field(default_factory=dict)  # engine-specific keys, e.g. stopped


def preempted_result(stop: Any, run_dir: Path, cfg: Config) -> RunResult:
    """The result of a run stopped by a preemption signal (the CLI then exits with
    ``litrain.reliability.preemption.REQUEUE_EXIT_CODE``); both engines return it."""
    summary = {
        "preempted": True,
        "signal": stop.signame,
        "steps": stop.step,
        "last_checkpoint": str(stop.checkpoint),
    }
    return RunResult({}, run_dir, cfg, last_checkpoint=str(stop.checkpoint), summary=summary)


def build_summary(
    engine: str, outcome: FitOutcome, cfg: Config, wall: float, run_dir: Path
) -> dict[str, Any]:
    """summary.json's keys, the same for both engines. A resumed run that was already finished
    trains nothing: it keeps the metrics of the summary it finished with."""
    metrics = outcome.metrics
    previous = run_dir / "summary.json"
    if not metrics and previous.is_file():
        metrics = json.loads(previous.read_text()).get("metrics", {})
    return {
        "engine": engine,
        "metrics": metrics,
        "best_metric": outcome.best_metric,
        "monitor": cfg.checkpoint.monitor,
        "best_checkpoint": outcome.best_checkpoint,
        "last_checkpoint": outcome.last_checkpoint,
        "epochs": outcome.epochs,
        "steps": outcome.steps,
        "wall_time_s": round(wall, 3),
        "versions": versions(),
        "launch": launch_layout(cfg),  # the processes that really trained (not the config's)
        # why training ended; an engine that stopped early (or on max_time) says so in extra
        "stopped_early": False,
        "stop_reason": limit_reason(cfg, outcome.steps),
        **outcome.extra,
    }


def limit_reason(cfg: Config, steps: int) -> str:
    """The stop_reason of a run that trained to its configured end."""
    t = cfg.trainer
    if t.fast_dev_run:
        return "fast_dev_run"
    if t.max_steps != -1 and steps >= t.max_steps:
        return "max_steps reached"
    return "max_epochs reached"


def stop_fields(stopped_early: bool, reason: str) -> dict[str, Any]:
    """summary.json's stopped_early/stop_reason from an engine's loop (reason "" : it
    trained to its configured end, which build_summary names)."""
    return {"stopped_early": stopped_early, "stop_reason": reason} if reason else {}
