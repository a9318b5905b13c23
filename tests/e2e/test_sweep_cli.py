"""``litrain sweep`` as a user runs it (a subprocess): trials that are runs, the study read
back with Optuna, best.yaml a config litrain loads with the best trial's values, the table
and files; bad sections refused in one line before torch; ``--workers 2`` on one study."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from litrain.config import load_config

BASE = {
    "run": {"name": "dsweep", "seed": 3, "engine": "native"},
    "data": {"source": "digits", "val_split": 0.2},
    "model": {"name": "mlp", "hidden": [16]},
    "trainer": {"max_epochs": 2, "limit_train_batches": 3, "limit_val_batches": 2, "accelerator": "cpu"},
}
SPACE = {"optim.lr": {"log_uniform": [1e-3, 1e-1]}, "data.batch_size": {"choice": [16, 32]}}


def write(tmp_path: Path, name: str = "sweep.yaml", **sweep) -> Path:
    path = tmp_path / name
    body = {"metric": "val/acc", "direction": "max", "trials": 3, "sampler": "random", "space": SPACE}
    path.write_text(yaml.safe_dump({**BASE, "sweep": {**body, **sweep}}))
    return path


def litrain(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "litrain", "sweep", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )


def trials(run: Path, name: str = "dsweep") -> list[optuna.trial.FrozenTrial]:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(run / "study.journal")))
    return optuna.load_study(study_name=name, storage=storage).get_trials()


def test_a_sweep_runs_its_trials_as_runs_and_writes_a_ready_best_config(tmp_path):
    run = tmp_path / "sw"
    proc = litrain(tmp_path, str(write(tmp_path)), "--run-dir", str(run))
    assert proc.returncode == 0, proc.stderr[-2000:]
    ts = trials(run)
    assert len(ts) == 3 and {t.state for t in ts} <= {TrialState.COMPLETE, TrialState.PRUNED}
    # the median pruner lets the first two run to their end
    assert ts[0].state == ts[1].state == TrialState.COMPLETE
    for t in ts:
        tdir = run / f"trial-{t.number:04d}"
        summary = json.loads((tdir / "summary.json").read_text())
        cfg = load_config([tdir / "config.yaml"])
        assert (
            cfg.optim.lr == pytest.approx(t.params["optim.lr"])
            and cfg.data.batch_size == t.params["data.batch_size"]
        )
        assert any((tdir / "checkpoints").glob("*.ckpt"))
        if t.state == TrialState.COMPLETE:
            assert t.value == summary["metrics"]["val/acc"]
            assert list(t.intermediate_values) == [0, 1]
    best = max((t for t in ts if t.state == TrialState.COMPLETE), key=lambda t: t.value)
    cfg = load_config([run / "best.yaml"])
    assert cfg.sweep is None and cfg.run.dir is None
    assert (
        cfg.optim.lr == pytest.approx(best.params["optim.lr"])
        and cfg.data.batch_size == best.params["data.batch_size"]
    )
    assert cfg.model.hidden == [16] and cfg.run.engine == "native"
    study = json.loads((run / "study.json").read_text())
    assert study["best"]["trial"] == best.number and study["best"]["value"] == best.value
    assert set(study["importances"]) == set(SPACE)
    assert [r["trial"] for r in study["trials"]] == [0, 1, 2]
    with (run / "trials.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["trial"]) for r in rows] == [0, 1, 2] and float(rows[best.number]["value"]) == best.value
    group = json.loads((run / "sweep.json").read_text())
    assert group["status"] == "finished" and [r["name"] for r in group["trials"]] == [
        f"trial-000{i}" for i in range(3)
    ]
    # what the sweep prints fits 80 columns; the dir's path (last line) is as long as it is
    table = [line for line in proc.stdout.splitlines() if not line.startswith("sweep dir: ")]
    assert max(len(line) for line in table) <= 80 and proc.stdout.splitlines()[-1] == f"sweep dir: {run}"
    from litrain.report import build_report  # the sweep dir's report: the study's section

    html = build_report([run], tmp_path / "sweep.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="sweep"') :]
    section = section[: section.index("</section>")]
    assert f"{best.value:.4f}" in section and section.count("<tr>") >= 3 + len(SPACE) + 1
    assert all(f"<td>{t.state.name}</td>" in section for t in ts)
    assert f"best: trial {best.number}, val/acc = " in proc.stdout and "importances: " in proc.stdout


PROBE = """
import sys
from litrain.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    print(f"exit={exc.code} torch_loaded={'torch' in sys.modules}")
"""


@pytest.mark.parametrize(
    ("sweep", "line"),
    [
        (
            {"space": {"optim.learnin_rate": {"uniform": [0.1, 1]}}},
            "sweep.space: unknown config key 'optim.learnin_rate'",
        ),
        ({"space": {"optim.lr": {"uniform": [0.1, 0.1]}}}, "uniform: [0.1, 0.1] is an empty range"),
        ({"direction": "upward"}, "sweep.direction: direction='upward': use min or max"),
        (
            {"space": {"data.batch_size": {"choice": [32, 0]}}},
            "sweep.space.data.batch_size: the config refuses 0",
        ),
    ],
)
def test_a_bad_sweep_section_is_one_line_before_torch_and_leaves_no_dir(tmp_path, sweep, line):
    run = tmp_path / "sw"
    cmd = [sys.executable, "-c", PROBE, "sweep", str(write(tmp_path, **sweep)), "--run-dir", str(run)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    errors = [x for x in proc.stderr.splitlines() if x.startswith("litrain: error:")]
    assert len(errors) == 1 and line in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert "exit=2 torch_loaded=False" in proc.stdout
    assert not run.exists()


def test_a_metric_no_trial_logs_is_one_line_before_any_trial(tmp_path):
    run = tmp_path / "sw"
    proc = litrain(tmp_path, str(write(tmp_path, metric="val/accuracy")), "--run-dir", str(run))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("litrain: error:")]
    assert "sweep.metric=val/accuracy is never logged by a trial: choose one of" in line and "val/acc" in line
    assert not run.exists()


def test_an_unreachable_storage_is_one_line_before_any_trial(tmp_path):
    run = tmp_path / "sw"
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    proc = litrain(tmp_path, str(write(tmp_path)), "--run-dir", str(run), "--storage", url)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("litrain: error:")]
    assert f"--storage {url} cannot be reached" in line
    assert not run.exists()


def test_two_workers_share_one_study_to_its_trial_count(tmp_path):
    run = tmp_path / "sw"
    proc = litrain(
        tmp_path,
        str(write(tmp_path, trials=3, pruner="none")),
        "--run-dir",
        str(run),
        "--workers",
        "2",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    ts = [t for t in trials(run) if not t.user_attrs.get("litrain_surplus")]
    assert len(ts) == 3 and all(t.state == TrialState.COMPLETE for t in ts)
    assert sorted(t.user_attrs["litrain_dir"] for t in ts) == [
        f"trial-{t.number:04d}" for t in sorted(ts, key=lambda t: t.number)
    ]
    for t in ts:
        assert (run / t.user_attrs["litrain_dir"] / "summary.json").is_file()
    study = json.loads((run / "study.json").read_text())
    assert study["states"] == {"COMPLETE": 3}
