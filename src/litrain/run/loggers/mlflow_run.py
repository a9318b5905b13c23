"""The MLflow run of a litrain run: its experiment (a deleted one of the same name is
restored), tags and params at the start, artifacts and status at the end, and the link
between the two in run_dir/logs/mlflow.json (tracking URI, experiment, run id), so that a
resumed fit logs into the same MLflow run and ``litrain runs sync`` can finish a run that
was logged offline or lost its server.

Params are the flattened config (``optim.lr``); tags say what ran: ``litrain.version``,
``litrain.engine``, ``litrain.launch.*``, ``litrain.run_dir`` and MLflow's own
``mlflow.source.git.commit`` when the working directory is in a git repository."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.config.diff import flat_keys
from litrain.core.atomic import atomic_write_json
from litrain.launch.mlflow_reach import DB_NAME, is_http, tracking_uri
from litrain.run.loggers.mlflow_queue import Spool, Value

STATE = "mlflow.json"
SPOOL = "mlflow_spool.jsonl"
PARAM_MAX = 6000  # MLflow 3's limit of a param value's length
ARTIFACTS = ("config.yaml", "summary.json", "model_card.json", "history.json", "report.html")
# MLflow's own client retries a refused connection for minutes (stalling the run's end):
# litrain spools instead; and it prints run URLs on stdout (a --quiet fit prints only its
# run dir). Set these yourself to override.
HTTP_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}


def warn(line: str) -> None:
    print(f"litrain: warning: {line}", file=sys.stderr, flush=True)


def reason(exc: BaseException) -> str:
    """Why a request failed, in a few words (not urllib3's paragraph)."""
    text = str(exc)
    if any(s in text for s in ("Max retries exceeded", "Connection refused", "ConnectionError")):
        return "no answer"
    return (text.splitlines()[0][:160] if text else type(exc).__name__) or type(exc).__name__


def flatten(d: dict[str, Any]) -> dict[str, str]:
    """``{"optim": {"lr": 0.1}}`` -> ``{"optim.lr": "0.1"}``; lists and null as JSON."""
    return {k: (v if isinstance(v, str) else json.dumps(v))[:PARAM_MAX] for k, v in flat_keys(d).items()}


def git_commit(where: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def run_tags(cfg: Config, engine: str, run_dir: Path) -> dict[str, str]:
    from litrain.core.versions import __version__
    from litrain.launch.environment import launch_layout

    tags = {
        "litrain.version": __version__,
        "litrain.engine": engine,
        "litrain.run_dir": str(run_dir.resolve()),
        "mlflow.source.name": "litrain",
    }
    tags.update({f"litrain.launch.{k}": str(v) for k, v in launch_layout(cfg).items()})
    commit = git_commit(Path.cwd())
    if commit:
        tags["mlflow.source.git.commit"] = commit
    tags.update(cfg.logging.mlflow.tags)
    return tags


def client(uri: str) -> Any:
    for key, value in HTTP_ENV.items():
        os.environ.setdefault(key, value)
    from mlflow import MlflowClient

    for name in ("mlflow.store.db.utils", "alembic"):  # a new sqlite store's migration lines
        logging.getLogger(name).setLevel(logging.WARNING)
    return MlflowClient(tracking_uri=uri)


def experiment_id(c: Any, name: str, uri: str) -> str:
    """The experiment ``name``, created if new, restored (with one line) if deleted."""
    exp = c.get_experiment_by_name(name)
    if exp is None:
        location = None
        if not is_http(uri):  # a local store keeps artifacts beside its database, not in ./mlruns
            location = (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()
        return str(c.create_experiment(name, artifact_location=location))
    if exp.lifecycle_stage == "deleted":
        c.restore_experiment(exp.experiment_id)
        warn(f"MLflow experiment {name!r} was deleted; restored it to log this run")
    return str(exp.experiment_id)


class Link:
    """run_dir/logs/mlflow.json: which MLflow run this run dir logs to."""

    def __init__(self, log_dir: Path) -> None:
        self.path = log_dir / STATE
        self.spool = Spool(log_dir / SPOOL)
        self.data: dict[str, Any] = json.loads(self.path.read_text()) if self.path.is_file() else {}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.path, self.data)

    @property
    def run_id(self) -> str | None:
        return self.data.get("run_id")


def start(cfg: Config, engine: str, log_dir: Path) -> tuple[Link, Any]:
    """Open (or, on resume, reopen) the MLflow run; (link, client), client None when offline
    or the server is away (then everything is spooled and ``runs sync`` creates the run)."""
    ml = cfg.logging.mlflow
    link = Link(log_dir)
    if link.data.get("tracking_uri") != tracking_uri(cfg):  # a resume to another store: a new run
        link.data = {}
    link.data.update(
        tracking_uri=tracking_uri(cfg),
        experiment=link.data.get("experiment") or ml.experiment or cfg.run.name,
        run_name=link.data.get("run_name") or ml.run_name or log_dir.parent.name,
        engine=engine,
        finished=False,
    )
    link.data.setdefault("tags", run_tags(cfg, engine, log_dir.parent))
    link.save()
    if ml.offline:
        return link, None
    try:
        c = client(link.data["tracking_uri"])
        open_run(link, c, cfg.to_dict())
    except Exception as exc:
        warn(
            f"MLflow at {link.data['tracking_uri']} refused the run ({reason(exc)}); spooling to {link.spool.path}"
        )
        return link, None
    return link, c


def open_run(link: Link, c: Any, config: dict[str, Any]) -> None:
    """Create the run (params and tags in one request) unless the link already has one."""
    from mlflow.entities import Param

    if link.run_id:
        known = c.get_run(link.run_id).data.params
        new = {k: v for k, v in flatten(config).items() if k not in known}  # a resume: values stay
        if new:
            c.log_batch(link.run_id, params=[Param(k, v) for k, v in new.items()])
        c.update_run(link.run_id, status="RUNNING")
        return
    exp = experiment_id(c, link.data["experiment"], link.data["tracking_uri"])
    run = c.create_run(exp, run_name=link.data["run_name"], tags=link.data["tags"])
    link.data.update(run_id=run.info.run_id, experiment_id=exp)
    link.save()
    params = [Param(k, v) for k, v in flatten(config).items()]
    for i in range(0, len(params), 100):  # log_batch's limit of params per request
        c.log_batch(run.info.run_id, params=params[i : i + 100])


def sender_for(c: Any, run_id: str) -> Any:
    from mlflow.entities import Metric

    def send(values: list[Value]) -> None:
        c.log_batch(run_id, metrics=[Metric(k, v, ts, step) for k, v, ts, step in values])

    return send


def artifacts(run_dir: Path, summary: dict[str, Any] | None, checkpoints: str) -> list[tuple[Path, str]]:
    """(file, artifact dir) of what a finished run keeps in MLflow: the run's record files,
    its plots, and the best checkpoint (``all``: and the last) once, never every checkpoint."""
    out = [(run_dir / name, "") for name in ARTIFACTS if (run_dir / name).is_file()]
    plots = run_dir / "plots"
    if plots.is_dir():
        out += [(p, "plots") for p in sorted(plots.iterdir()) if p.is_file()]
    wanted = {"best": ["best_checkpoint"], "all": ["best_checkpoint", "last_checkpoint"]}.get(checkpoints, [])
    seen: set[Path] = set()
    for key in wanted:
        value = (summary or {}).get(key)
        path = (run_dir / value) if value else None
        if path is not None and path.is_file() and path.resolve() not in seen:
            seen.add(path.resolve())
            out.append((path, "checkpoints"))
    return out


def finish(link: Link, c: Any, run_dir: Path, summary: dict[str, Any] | None, checkpoints: str) -> None:
    """The end of a run: spooled metrics replayed, artifacts uploaded, the status set
    (FINISHED, KILLED for an interrupted run, FAILED without a summary). Raises when the
    server is away; the link then still says what is left to do."""
    link.spool.replay(sender_for(c, link.run_id))
    if summary is not None:
        for path, where in artifacts(run_dir, summary, checkpoints):
            c.log_artifact(link.run_id, str(path), artifact_path=where or None)
    status = (
        "FAILED" if summary is None else ("KILLED" if summary.get("status") == "interrupted" else "FINISHED")
    )
    c.set_terminated(link.run_id, status=status, end_time=int(time.time() * 1000))
    link.data["finished"] = True
    link.save()


__all__ = ["DB_NAME", "Link", "artifacts", "client", "finish", "flatten", "open_run", "sender_for", "start"]
