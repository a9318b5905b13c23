"""MLflow faults: the server killed mid-run (the run finishes, exit 0; `litrain runs sync`
replays the spool once it is back), a URI nobody answers (one line, exit 2, before
training), offline spooling, and an experiment of the same name that was deleted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import TINY, free_port
from litrain.config import load_config
from litrain.run.loggers.mlflow_log import MlflowLog, finish
from mlflow_records import csv_histories, mlflow_histories, run_id

# one MLflow server per session: these tests share one xdist worker (tests/mlflow_server.py)
pytestmark = pytest.mark.xdist_group("mlflow_server")

HERE = Path(__file__).parent
CLI = [sys.executable, "-m", "litrain"]


def _flags(values: dict) -> list[str]:
    return [a for k, v in values.items() for a in (f"--{k}", str(v))]


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def _sync(run_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "runs", "sync", str(run_dir)], capture_output=True, text=True, env=_env(), timeout=300
    )


def test_server_killed_mid_run_the_run_finishes_and_sync_replays(live_mlflow, tmp_path):
    run_dir = tmp_path / "run"
    kill = {
        "class_path": "mlflow_kill_callback.KillServer",
        "init_args": {"pgid": live_mlflow.proc.pid, "uri": live_mlflow.uri},
    }
    cmd = [*CLI, "fit", *_flags(TINY), "--run-dir", str(run_dir),
           "--mlflow-uri", live_mlflow.uri, "--mlflow-experiment", "killed",
           "--set", f"trainer.callbacks={json.dumps([kill])}", "--quiet"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=600)
    live_mlflow.stop()  # reap the killed group
    assert done.returncode == 0, done.stderr[-3000:]
    warnings = [line for line in done.stderr.splitlines() if "MLflow" in line]
    assert len(warnings) == 2, done.stderr  # the lost server, then the end it could not take
    assert "mlflow_spool.jsonl" in warnings[0] and "litrain runs sync" in warnings[1]
    assert (run_dir / "logs" / "mlflow_spool.jsonl").is_file()
    assert (run_dir / "summary.json").is_file()

    live_mlflow.start()  # the same port and backend
    synced = _sync(run_dir)
    assert synced.returncode == 0, synced.stderr
    client = live_mlflow.client()
    rid = run_id(run_dir)
    assert mlflow_histories(client, rid) == csv_histories(run_dir)  # both epochs, every step
    assert client.get_run(rid).info.status == "FINISHED"
    assert "summary.json" in {a.path for a in client.list_artifacts(rid)}
    assert not (run_dir / "logs" / "mlflow_spool.jsonl").exists()


def test_unreachable_uri_is_one_line_and_exit_2_before_training(tmp_path):
    run_dir = tmp_path / "run"
    uri = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [*CLI, "fit", "--run-dir", str(run_dir), "--mlflow-uri", uri],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("litrain: error: no MLflow server answers at " + uri)
    assert "--mlflow-offline" in lines[0]
    assert not run_dir.exists()


def _writer(tmp_path: Path, **mlflow: object):
    cfg = load_config([], {**{f"logging.mlflow.{k}": v for k, v in mlflow.items()}, "run.name": "w"})
    run_dir = tmp_path / "run"
    return cfg, run_dir, MlflowLog(cfg, run_dir / "logs")


def test_offline_spools_and_sync_uploads_the_run(live_mlflow, tmp_path):
    cfg, run_dir, log = _writer(tmp_path, tracking_uri=live_mlflow.uri, experiment="offline", offline=True)
    cfg.save(run_dir / "config.yaml")
    for step in range(3):
        log.log({"train/loss": 1.0 / (step + 1)}, epoch=0, step=step)
    log.close([])
    (run_dir / "summary.json").write_text(json.dumps({"status": "finished"}))
    finish(cfg, run_dir, {"status": "finished"})
    assert live_mlflow.client().get_experiment_by_name("offline") is None  # nothing sent
    assert (run_dir / "logs" / "mlflow_spool.jsonl").is_file()

    assert _sync(run_dir).returncode == 0
    client = live_mlflow.client()
    rid = run_id(run_dir)
    assert mlflow_histories(client, rid)["train/loss"] == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]
    assert client.get_run(rid).data.params["run.name"] == "w"
    assert client.get_run(rid).info.status == "FINISHED"


def test_a_deleted_experiment_of_that_name_is_restored(live_mlflow, tmp_path, capsys):
    client = live_mlflow.client()
    exp = client.create_experiment("gone")
    client.delete_experiment(exp)
    _, run_dir, log = _writer(tmp_path, tracking_uri=live_mlflow.uri, experiment="gone")
    log.log({"val/acc": 0.5}, epoch=0, step=0)
    log.close([])
    assert client.get_experiment(exp).lifecycle_stage == "active"
    assert client.get_run(run_id(run_dir)).info.experiment_id == exp
    assert mlflow_histories(client, run_id(run_dir))["val/acc"] == [(0, 0.5)]
    err = capsys.readouterr().err
    assert err.count("litrain: warning: MLflow experiment 'gone' was deleted; restored it") == 1


def test_logging_mlflow_true_alone_logs_to_sqlite_in_the_runs_root(tmp_path):
    from mlflow import MlflowClient

    cfg, run_dir, log = _writer(tmp_path, enabled=True)
    log.log({"train/loss": 2.0}, epoch=0, step=4)
    log.close([])
    (run_dir / "summary.json").write_text(json.dumps({"status": "finished"}))
    finish(cfg, run_dir, {"status": "finished"})
    db = tmp_path / "runs" / "w" / "mlflow.db"  # the test's cwd is tmp_path
    assert db.is_file()
    client = MlflowClient(f"sqlite:///{db}")
    rid = run_id(run_dir)
    assert mlflow_histories(client, rid)["train/loss"] == [(4, 2.0)]
    assert [a.path for a in client.list_artifacts(rid)] == ["summary.json"]
    assert (tmp_path / "runs" / "w" / "mlartifacts").is_dir()
