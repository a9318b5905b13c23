"""What a run returns (RunResult) and the one summary.json builder both engines share."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.core.versions import versions
from litrain.launch.environment import launch_layout
from litrain.run.rundir import as_stored, checkpoint_dir, has_checkpoint


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
    before = json.loads(previous.read_text()) if previous.is_file() else {}
    if not metrics:
        metrics = before.get("metrics", {})
    best = best_row(run_dir, cfg.checkpoint.monitor, outcome.best_metric)
    return {
        "engine": engine,
        "metrics": metrics,  # the last epoch's
        "best_metric": outcome.best_metric,
        "monitor": cfg.checkpoint.monitor,
        # the epoch the best checkpoint was saved at, and its metrics (what test, predict,
        # litrain.load and export use by default)
        "best_epoch": best.get("epoch") if best else before.get("best_epoch"),
        "best_metrics": _metrics_of(best) if best else before.get("best_metrics", {}),
        # relative to the run dir: a copied or moved run names its own files
        "best_checkpoint": as_stored(run_dir, outcome.best_checkpoint),
        "last_checkpoint": as_stored(run_dir, outcome.last_checkpoint),
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


def interrupted_summary(engine: str, stop: Any, cfg: Config, wall: float, run_dir: Path) -> dict[str, Any]:
    """summary.json of a run stopped by Ctrl-C: where it stopped and how to go on. No
    ``stop_reason``: it did not finish (a pipeline does not skip it), and without a
    checkpoint the run dir holds no run (the same command starts it again)."""
    saved = has_checkpoint(cfg, run_dir)
    where = f"interrupted at epoch {stop.epoch} ({stop.phase})"
    if saved:
        message = f"{where}; checkpoints intact: litrain fit --run-dir {run_dir} --resume last"
    else:
        message = f"{where} before the first checkpoint; nothing saved: run the same command again"
    last = checkpoint_dir(cfg, run_dir) / "last.ckpt"
    return {
        "engine": engine,
        "status": "interrupted",
        "epoch": stop.epoch,
        "phase": stop.phase,
        "message": message,
        "last_checkpoint": as_stored(run_dir, last) if last.exists() else None,
        "wall_time_s": round(wall, 3),
    }


def best_row(run_dir: Path, monitor: str | None, best: float | None) -> dict[str, Any] | None:
    """The history.json row of the epoch the best checkpoint was saved at: the first epoch
    whose monitored value is the best score (a later tie does not replace a checkpoint)."""
    history = run_dir / "history.json"
    if not monitor or best is None or not history.is_file():
        return None
    try:
        rows = json.loads(history.read_text())
    except ValueError:
        return None
    for row in rows:
        value = row.get(monitor)
        if isinstance(value, int | float) and math.isclose(value, best, rel_tol=1e-6, abs_tol=1e-9):
            return row
    return None


def _metrics_of(row: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in row.items() if k not in ("epoch", "step") and isinstance(v, int | float)}


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
