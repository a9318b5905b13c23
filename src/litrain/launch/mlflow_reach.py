"""Where MLflow logs go and whether anyone answers there, checked before training (and, from
the CLI, before torch is imported). No mlflow import: a GET of the server's ``/health``."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from litrain.config import Config
from litrain.errors import ConfigError

DB_NAME = "mlflow.db"  # the local store when only `logging.mlflow: true` is given


def tracking_uri(cfg: Config) -> str:
    """The configured URI, else ``sqlite:///<runs root>/mlflow.db`` (absolute: the same
    store wherever a later command runs from). MLflow 3 refuses the old file store and
    Lightning's MLFlowLogger would default to it, so a URI is always explicit."""
    uri = cfg.logging.mlflow.tracking_uri
    if uri:
        return uri
    root = (Path("runs") / cfg.run.name).resolve()  # run.rundir.runs_root, without the layer
    return f"sqlite:///{root / DB_NAME}"


def is_http(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def answers(uri: str, timeout_s: float = 5.0) -> str | None:
    """None when the MLflow server at ``uri`` answers ``/health``; else why not (one phrase)."""
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout_s) as r:
            return None if r.status == 200 else f"/health answered {r.status}"
    except urllib.error.HTTPError as exc:
        return f"/health answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return str(reason) or type(exc).__name__


def check_mlflow(cfg: Config) -> None:
    """The URI must be one MLflow 3 takes and, unless ``offline``, a server must answer:
    one line that says what to change, before any data is built."""
    ml = cfg.logging.mlflow
    uri = tracking_uri(cfg)
    if uri.startswith("file:") or "://" not in uri:
        raise ConfigError(
            f"logging.mlflow.tracking_uri {uri!r}: MLflow 3 refuses the file store; "
            "give http://HOST:PORT of an `mlflow server` or sqlite:///FILE.db"
        )
    if ml.offline or not is_http(uri):
        return
    why = answers(uri)
    if why is not None:
        raise ConfigError(
            f"no MLflow server answers at {uri} ({why}): start it, fix --mlflow-uri, "
            "or pass --mlflow-offline to spool the run locally (litrain runs sync uploads it)"
        )
