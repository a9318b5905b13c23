"""`litrain runs list` and `litrain runs compare` as a user calls them (a subprocess, an
80-column terminal) on run dirs as fit writes them: config.yaml, summary.json and
logs/metrics.csv."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from litrain.config import load_config

# one MLflow server per session: these tests share one xdist worker (tests/mlflow_server.py)
pytestmark = pytest.mark.xdist_group("mlflow_server")

ENV = {**os.environ, "COLUMNS": "80"}


def _run_dir(
    path: Path, overrides: dict, summary: dict | None, curve: list[tuple[int, float, float]]
) -> Path:
    path.mkdir(parents=True)
    load_config([], overrides).save(path / "config.yaml")
    (path / "logs").mkdir()
    with (path / "logs" / "metrics.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "step", "train/loss_step", "val/acc", "val/loss"])
        for step, loss, acc in curve:
            w.writerow([0, step, loss, "", ""])
            w.writerow([0, step, "", acc, loss + 0.1])
    if summary is not None:
        (path / "summary.json").write_text(json.dumps(summary))
    return path


def _summary(engine: str, acc: float, wall: float) -> dict:
    metrics = {"val/acc": acc, "val/loss": 1 - acc, "train/loss": 1.5 - acc}
    return {
        "engine": engine, "metrics": metrics, "best_metric": acc, "monitor": "val/acc",
        "best_epoch": 1, "best_metrics": metrics, "epochs": 2, "steps": 10, "wall_time_s": wall,
    }  # fmt: skip


def _runs(root: Path) -> tuple[Path, Path, Path]:
    a = _run_dir(root / "digits" / "20260101-000000", {"optim.lr": 0.01, "run.name": "digits"},
                 _summary("lightning", 0.9, 65.2), [(1, 2.0, 0.5), (3, 1.0, 0.9)])  # fmt: skip
    b = _run_dir(root / "digits" / "20260101-000100", {"optim.lr": 0.1, "run.name": "digits", "run.engine": "native"},
                 _summary("native", 0.75, 4.25), [(1, 2.5, 0.4), (3, 1.5, 0.75)])  # fmt: skip
    c = _run_dir(root / "größe" / "x", {"run.name": "größe"}, None, [(1, 2.0, 0.1)])
    # an MLflow store's copy of a run's files is not a run
    copy = root / "digits" / "mlartifacts" / "1" / "abc" / "artifacts"
    (copy / "checkpoints").mkdir(parents=True)
    (copy / "config.yaml").write_text((a / "config.yaml").read_text())
    return a, b, c


def _litrain(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litrain", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=300,
    )


def test_runs_list_is_a_table_of_the_runs_under_the_runs_root(tmp_path):
    _runs(tmp_path / "runs")
    done = _litrain("runs", "list", cwd=tmp_path)  # the default DIR: ./runs
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), done.stdout
    text = done.stdout
    assert "mlartifacts" not in text
    assert text.count("digits/2026") == 2, text
    assert "lightning" in text and "native" in text and "classification" in text
    assert "finished" in text and "incomplete" in text and "größe" in text
    assert "0.9000" in text and "0.7500" in text and "1m05s" in text and "4.2s" in text


def test_runs_compare_names_the_differing_keys_and_metrics_side_by_side(tmp_path):
    a, b, _ = _runs(tmp_path / "runs")
    plot = tmp_path / "cmp.png"
    done = _litrain("runs", "compare", str(a), str(b), "--plot", str(plot), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert all(len(line) <= 80 for line in done.stdout.splitlines() if not line.startswith("plot:")), (
        done.stdout
    )
    cells = [re.split(r"\s{2,}", line.strip()) for line in done.stdout.splitlines()]
    assert ["optim.lr", "0.0100", "0.1000"] in cells
    assert ["run.engine", "lightning", "native"] in cells
    assert ["run.dir", *[""] * 2] not in cells and not any(
        c and c[0] == "run.name" for c in cells
    )  # same in both
    assert ["val/acc", "0.9000", "0.7500"] in cells and ["val/loss", "0.1000", "0.2500"] in cells
    assert "best metrics (best epoch: 1, 1)" in done.stdout
    assert "plot: " in done.stdout and "(train/loss_step, val/loss, val/acc)" in done.stdout
    import matplotlib.image

    assert matplotlib.image.imread(plot).shape[:2] == (720, 560)  # 3 panels of 7 x 3 in at 80 dpi


def test_runs_compare_of_a_dir_that_is_not_a_run_is_one_line(tmp_path):
    a, _, _ = _runs(tmp_path / "runs")
    (tmp_path / "empty").mkdir()
    done = _litrain("runs", "compare", str(a), str(tmp_path / "empty"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"litrain: error: {tmp_path / 'empty'} is not a litrain run dir (no config.yaml beside logs/ or checkpoints/)"
    ]


def _to_mlflow(run_dir: Path, uri: str, experiment: str) -> None:
    """Log a run dir to MLflow as a fit would: its metrics.csv rows, then its files."""
    from litrain.run.loggers.mlflow_log import MlflowLog, finish

    cfg = load_config(
        [run_dir / "config.yaml"],
        {"logging.mlflow.tracking_uri": uri, "logging.mlflow.experiment": experiment},
    )
    log = MlflowLog(cfg, run_dir / "logs")
    with (run_dir / "logs" / "metrics.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            values = {k: float(v) for k, v in row.items() if v and k not in ("epoch", "step")}
            log.log(values, int(row["epoch"]), int(row["step"]))
    log.close([])
    finish(cfg, run_dir, json.loads((run_dir / "summary.json").read_text()))


def test_runs_list_and_compare_read_an_mlflow_experiment(live_mlflow, tmp_path):
    a, b, _ = _runs(tmp_path / "runs")
    for run in (a, b):
        _to_mlflow(run, live_mlflow.uri, "cmp")
    source = ["--mlflow-uri", live_mlflow.uri, "--experiment", "cmp"]
    listed = _litrain("runs", "list", *source, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "runs in MLflow experiment cmp" in listed.stdout
    assert "20260101-000000" in listed.stdout.replace("\n", "") or "2026010" in listed.stdout
    assert "0.9000" in listed.stdout and "0.7500" in listed.stdout and "1m05s" in listed.stdout
    assert "lightning" in listed.stdout and "native" in listed.stdout

    plot = tmp_path / "cmp.png"
    done = _litrain("runs", "compare", a.name, b.name, *source, "--plot", str(plot), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cells = [re.split(r"\s{2,}", line.strip()) for line in done.stdout.splitlines()]
    assert ["optim.lr", "0.0100", "0.1000"] in cells and ["val/acc", "0.9000", "0.7500"] in cells
    assert "(train/loss_step, val/loss, val/acc)" in done.stdout  # curves from the metric histories
    import matplotlib.image

    assert matplotlib.image.imread(plot).shape[:2] == (720, 560)

    unknown = _litrain("runs", "compare", a.name, "nope", *source, cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "litrain: error: experiment 'cmp' has no run named nope"
