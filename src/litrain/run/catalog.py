"""Run dirs as records to list and compare (``litrain runs``): what summary.json,
config.yaml and logs/metrics.csv say, read without torch.

A run dir is a directory holding config.yaml and logs/ or checkpoints/ (a
pipeline's stages are runs too). A run without summary.json is ``running`` while its lock
is held and ``incomplete`` otherwise."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from litrain.config.diff import flat_keys
from litrain.errors import ConfigError
from litrain.run.lock import check_not_in_use


@dataclass
class RunRecord:
    name: str  # the path under the listed dir (a compare: as given); an MLflow run's name
    path: Path | None  # None: a run read from MLflow (``catalog_mlflow``)
    config: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)
    status: str = "finished"
    # where the curves come from when there is no run dir: () -> {metric: [(step, value)]}
    histories: Callable[[], dict[str, list[tuple[int, float]]]] | None = None

    @property
    def task(self) -> str:
        task = self.config.get("task") or {}
        return str(task.get("type", "")) if isinstance(task, dict) else ""

    @property
    def engine(self) -> str:
        return str(self.summary.get("engine") or (self.config.get("run") or {}).get("engine", ""))

    @property
    def final_metrics(self) -> dict[str, float]:
        return {k: v for k, v in (self.summary.get("metrics") or {}).items() if _number(v)}

    @property
    def best_metrics(self) -> dict[str, float]:
        return {k: v for k, v in (self.summary.get("best_metrics") or {}).items() if _number(v)}

    def curves(self) -> dict[str, list[tuple[int, float]]]:
        """logs/metrics.csv as (step, value) per metric ({} without one)."""
        if self.histories is not None:
            return self.histories()
        path = self.path / "logs" / "metrics.csv" if self.path is not None else None
        if path is None or not path.is_file():
            return {}
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        out: dict[str, list[tuple[int, float]]] = {}
        for row in rows:
            for key, value in row.items():
                if key in ("step", "epoch") or value in ("", None):
                    continue
                out.setdefault(key, []).append((int(float(row["step"])), float(value)))
        return out


def _locked(path: Path) -> bool:
    """A process holds the run dir's lock (a killed run's lock went with its process)."""
    try:
        check_not_in_use(path)
    except ConfigError:
        return True
    return False


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


# MLflow's local artifact stores hold copies of config.yaml and summary.json: not runs
ARTIFACT_STORES = {"mlartifacts", "mlruns"}


def is_run_dir(path: Path) -> bool:
    return (path / "config.yaml").is_file() and any((path / p).is_dir() for p in ("logs", "checkpoints"))


def read_run(path: Path, name: str | None = None) -> RunRecord:
    path = Path(path)
    if not is_run_dir(path):
        raise ConfigError(f"{path} is not a litrain run dir (no config.yaml beside logs/ or checkpoints/)")
    config = yaml.safe_load((path / "config.yaml").read_text()) or {}
    summary_path = path / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        status = str(summary.get("status") or "finished")
    else:
        summary, status = {}, ("running" if _locked(path) else "incomplete")
    return RunRecord(name or str(path), path, config, summary, status)


def find_runs(root: Path) -> list[RunRecord]:
    """Every run dir under ``root`` (itself included), in path order."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root} is not a directory: pass the runs root (default ./runs) or a run dir")
    found = [
        p
        for p in [root, *sorted(root.rglob("*"))]
        if p.is_dir() and not ARTIFACT_STORES & set(p.relative_to(root).parts) and is_run_dir(p)
    ]
    return [read_run(p, str(p.relative_to(root)) if p != root else p.name) for p in found]


def best_text(run: RunRecord) -> str:
    monitor, best = run.summary.get("monitor"), run.summary.get("best_metric")
    if not monitor or not _number(best):
        return ""
    return f"{monitor} {fmt(best)}"


def fmt(v: Any) -> str:
    if not _number(v):
        return "" if v is None else str(v)
    if isinstance(v, int):
        return str(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"


def wall_text(seconds: Any) -> str:
    if not _number(seconds):
        return ""
    s = float(seconds)
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def differing_keys(runs: list[RunRecord]) -> list[tuple[str, list[Any]]]:
    """(dotted config key, each run's value) for every key the runs do not all share
    (not ``run.dir``: where each run went is its name)."""
    flats = [{k: v for k, v in flat_keys(r.config).items() if k != "run.dir"} for r in runs]
    keys = sorted(set().union(*flats))
    missing = object()
    out = []
    for key in keys:
        values = [f.get(key, missing) for f in flats]
        if any(v != values[0] for v in values[1:]):
            out.append((key, [None if v is missing else v for v in values]))
    return out
