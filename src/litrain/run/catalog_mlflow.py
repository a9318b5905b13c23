"""The runs of an MLflow experiment as :class:`~litrain.run.catalog.RunRecord`s, so that
``litrain runs list / compare --mlflow-uri URI --experiment NAME`` read them as they read
run dirs: the config from the run's config.yaml artifact (else its params), the summary
from its summary.json artifact (else its latest metrics), the curves from the metric
histories."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml

from litrain.errors import ConfigError
from litrain.run.catalog import RunRecord
from litrain.run.loggers.mlflow_run import client

MAX_RUNS = 200  # a list reads each run's two small artifacts


def _artifact(c: Any, run_id: str, name: str, where: Path) -> str | None:
    try:
        return Path(c.download_artifacts(run_id, name, str(where))).read_text()
    except Exception:
        return None


def _unflatten(params: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _record(c: Any, run: Any, tmp: Path) -> RunRecord:
    rid = run.info.run_id
    where = tmp / rid
    where.mkdir()
    config_text = _artifact(c, rid, "config.yaml", where)
    config = yaml.safe_load(config_text) if config_text else _unflatten(run.data.params)
    summary_text = _artifact(c, rid, "summary.json", where)
    summary = json.loads(summary_text) if summary_text else {"metrics": dict(run.data.metrics)}
    summary.setdefault("engine", run.data.tags.get("litrain.engine", ""))
    name = run.info.run_name or rid

    def histories() -> dict[str, list[tuple[int, float]]]:
        return {
            k: sorted((m.step, m.value) for m in c.get_metric_history(rid, k))
            for k in run.data.metrics
            if k != "epoch"
        }

    status = str(summary.get("status") or run.info.status).lower()
    return RunRecord(name, None, config, summary, status, histories)


def experiment_runs(uri: str, experiment: str, names: list[str] | None = None) -> list[RunRecord]:
    """The experiment's runs, oldest first; ``names``: only those (run names or ids), in that order."""
    c = client(uri)
    exp = c.get_experiment_by_name(experiment)
    if exp is None:
        raise ConfigError(f"no MLflow experiment {experiment!r} at {uri}")
    runs = c.search_runs([exp.experiment_id], max_results=MAX_RUNS, order_by=["attributes.start_time ASC"])
    if names is not None:
        by_key = {r.info.run_id: r for r in runs} | {r.info.run_name: r for r in runs}
        missing = [n for n in names if n not in by_key]
        if missing:
            raise ConfigError(f"experiment {experiment!r} has no run named {', '.join(missing)}")
        runs = [by_key[n] for n in names]
    with tempfile.TemporaryDirectory() as tmp:
        return [_record(c, r, Path(tmp)) for r in runs]
