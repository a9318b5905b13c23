"""What the tracking tests read back: a run dir's metrics.csv as MLflow histories, and the
MLflow run a run dir logged to (run_dir/logs/mlflow.json)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def csv_histories(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every metrics.csv column but ``step`` as sorted (step, value) pairs."""
    with (Path(run_dir) / "logs" / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [k for k in rows[0] if k != "step"]
    return {k: sorted((int(r["step"]), float(r[k])) for r in rows if r[k] != "") for k in keys}


def mlflow_histories(client: Any, run_id: str) -> dict[str, list[tuple[int, float]]]:
    run = client.get_run(run_id)
    return {
        k: sorted((m.step, m.value) for m in client.get_metric_history(run_id, k)) for k in run.data.metrics
    }


def run_id(run_dir: Path) -> str:
    return json.loads((Path(run_dir) / "logs" / "mlflow.json").read_text())["run_id"]
