"""MLflow in both engines against a real `mlflow server`: every metrics.csv value at its
step, the flattened config as params, the tags, and the run's files as artifacts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import TINY, tiny_fit
from litrain.run.loggers.mlflow_run import flatten
from mlflow_records import csv_histories, mlflow_histories, run_id

# one MLflow server per session: these tests share one xdist worker (tests/mlflow_server.py)
pytestmark = pytest.mark.xdist_group("mlflow_server")


def _git_repo(where: Path) -> str:
    """Make ``where`` (the test's cwd) a git repository with one commit; its hash."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=where, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=where, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_both_engines_log_the_csv_metrics_params_tags_and_artifacts(engine, live_mlflow, tmp_path):
    commit = _git_repo(tmp_path)
    run_dir = tmp_path / "run"
    result = tiny_fit(
        run_dir,
        engine,
        **{"logging.mlflow.tracking_uri": live_mlflow.uri, "logging.mlflow.experiment": f"it-{engine}"},
    )
    client = live_mlflow.client()
    rid = run_id(run_dir)
    run = client.get_run(rid)
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == f"it-{engine}"

    # every value of every metrics.csv column, at its step (epoch included), and nothing else
    want = csv_histories(run_dir)
    assert "train/loss_step" in want and "val/acc" in want
    assert mlflow_histories(client, rid) == want

    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert run.data.params == flatten(saved)
    assert run.data.params["trainer.max_epochs"] == "2" and run.data.params["run.engine"] == engine

    tags = run.data.tags
    assert tags["litrain.engine"] == engine
    assert tags["litrain.version"] == __import__("litrain").__version__
    assert tags["litrain.launch.world_size"] == "1" and tags["litrain.launch.launcher"] == "none"
    assert tags["mlflow.source.git.commit"] == commit
    assert tags["mlflow.runName"] == run_dir.name

    top = {a.path for a in client.list_artifacts(rid)}
    assert {"config.yaml", "summary.json", "model_card.json", "report.html", "plots", "checkpoints"} <= top
    plots = {Path(a.path).name for a in client.list_artifacts(rid, "plots")}
    assert plots == {p.name for p in (run_dir / "plots").iterdir()} and plots
    # the best checkpoint, once (not every checkpoint the run kept)
    ckpts = [Path(a.path).name for a in client.list_artifacts(rid, "checkpoints")]
    assert ckpts == [Path(result.best_checkpoint).name]
    local = client.download_artifacts(rid, "summary.json", str(tmp_path / "down"))
    assert Path(local).read_bytes() == (run_dir / "summary.json").read_bytes()


def test_a_resumed_run_logs_into_the_same_mlflow_run(live_mlflow, tmp_path):
    import litrain

    run_dir = tmp_path / "run"
    mlflow = {"logging.mlflow.tracking_uri": live_mlflow.uri, "logging.mlflow.experiment": "resume"}
    tiny_fit(run_dir, "native", **{**mlflow, "trainer.max_epochs": 1})
    first = run_id(run_dir)
    overrides = {**TINY, **mlflow, "run.engine": "native", "trainer.max_epochs": 2}
    litrain.fit(run_dir=run_dir, resume="last", quiet=True, **overrides)
    assert run_id(run_dir) == first
    client = live_mlflow.client()
    assert mlflow_histories(client, first) == csv_histories(run_dir)  # both epochs, one run
    assert {s for s, _ in mlflow_histories(client, first)["epoch"]} >= {4, 9}  # ends of epochs 0 and 1
    assert client.get_run(first).info.status == "FINISHED"
    assert client.get_run(first).data.params["trainer.max_epochs"] == "1"  # params stay as first logged
