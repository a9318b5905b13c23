"""MLflow (``logging.mlflow``): one MLflow run per litrain run, the same metric names and
steps in both engines (the Lightning engine wraps this writer: ``LoggerSpec.lightning`` is
None), every row's metrics plus ``epoch`` at the row's step, as the CSV has them.

Metrics leave through ``mlflow_queue.Sender`` (a background thread, batched, bounded; a
server that goes away costs a warning and a local spool). The run's params and tags are
sent when the writer opens; its artifacts and final status once the run dir is complete
(``SPEC.finish``, after summary.json), so they include summary.json and the plots."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.run.loggers.spec import Checkpoints, LoggerSpec


class MlflowLog:
    def __init__(self, cfg: Config, log_dir: Path) -> None:
        from litrain.run.loggers.mlflow_queue import Sender
        from litrain.run.loggers.mlflow_run import reason, sender_for, start, warn

        self.link, client = start(cfg, cfg.run.engine, log_dir)
        send = sender_for(client, self.link.run_id) if client is not None else None
        self.sender = Sender(
            send, self.link.spool, warn, reason=reason, asynchronous=cfg.logging.mlflow.asynchronous
        )
        self.last_ms = 0

    def _now(self) -> int:
        # strictly increasing: MLflow keeps one of two equal (step, value, timestamp) entries,
        # and two rows of one step (a step's row, then the epoch's) can fall in one millisecond
        self.last_ms = max(int(time.time() * 1000), self.last_ms + 1)
        return self.last_ms

    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        now = self._now()
        values = [(k, float(v), now, step) for k, v in metrics.items()]
        values.append(("epoch", float(epoch), now, step))
        self.sender.put(values)

    def flush(self) -> None:
        pass  # the thread sends as values come; the spool is a file already

    def close(self, checkpoints: Checkpoints) -> None:
        self.sender.close()


def finish(cfg: Config, run_dir: Path, summary: dict[str, Any] | None) -> None:
    """After summary.json (rank 0): artifacts, spool and status; a server away costs a
    warning, and ``litrain runs sync RUN_DIR`` does it later."""
    from litrain.run.loggers.mlflow_run import Link, client, finish, reason, warn

    link = Link(run_dir / "logs")
    if not link.data or cfg.logging.mlflow.offline:
        return
    try:
        c = client(link.data["tracking_uri"])
        if not link.run_id:  # the server was away when the run started
            from litrain.run.loggers.mlflow_run import open_run

            open_run(link, c, cfg.to_dict())
        finish(link, c, run_dir, summary, cfg.logging.mlflow.log_checkpoints)
    except Exception as exc:
        warn(
            f"MLflow at {link.data['tracking_uri']} did not take the end of the run ({reason(exc)}); "
            f"`litrain runs sync {run_dir}` uploads it when the server is back"
        )


def _check(cfg: Config) -> None:
    from litrain.launch.mlflow_reach import check_mlflow

    check_mlflow(cfg)


SPEC = LoggerSpec(
    key="logging.mlflow",
    enabled=lambda cfg: cfg.logging.mlflow.enabled,
    writer=MlflowLog,
    package="mlflow",
    extra="mlflow",
    check=_check,
    finish=finish,
)


def sync(run_dir: Path, uri: str | None = None) -> str:
    """``litrain runs sync``: send what a run dir's MLflow link still holds (a run logged
    offline, or whose server went away): the run itself if never created, the spooled
    metrics, and, for a run that ended, its artifacts and status. Returns the run id."""
    import json

    from litrain.config import load_config
    from litrain.errors import ConfigError
    from litrain.run.loggers.mlflow_run import Link, client, finish, open_run

    link = Link(run_dir / "logs")
    if not link.data:
        raise ConfigError(f"{run_dir} has no logs/mlflow.json: it was not logged with logging.mlflow")
    if uri:
        link.data["tracking_uri"] = uri
    from litrain.launch.mlflow_reach import answers, is_http

    if is_http(link.data["tracking_uri"]) and answers(link.data["tracking_uri"]) is not None:
        raise ConfigError(
            f"no MLflow server answers at {link.data['tracking_uri']}: start it, or pass --mlflow-uri"
        )
    cfg = load_config([run_dir / "config.yaml"]) if (run_dir / "config.yaml").is_file() else None
    c = client(link.data["tracking_uri"])
    if not link.run_id:
        open_run(link, c, cfg.to_dict() if cfg is not None else {})
    summary_path = run_dir / "summary.json"
    if summary_path.is_file() and not link.data.get("finished"):
        checkpoints = cfg.logging.mlflow.log_checkpoints if cfg is not None else "best"
        finish(link, c, run_dir, json.loads(summary_path.read_text()), checkpoints)
    else:
        from litrain.run.loggers.mlflow_run import sender_for

        link.spool.replay(sender_for(c, link.run_id))
    return str(link.run_id)
