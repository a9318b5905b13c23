"""Two ``litrain sweep`` processes (as on two machines: each its own sweep dir) share one
study through a real PostgreSQL server: together they run the study's trial count, every
trial a run in the dir of the process that ran it, and the study reads back from the server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import yaml
from optuna.trial import TrialState

from pg_service import postgres_url  # noqa: F401  (the session's server)

SWEEP = {
    "run": {"name": "pg", "seed": 7, "engine": "native"},
    "data": {"source": "digits", "val_split": 0.2},
    "model": {"name": "mlp", "hidden": [16]},
    "trainer": {"max_epochs": 1, "limit_train_batches": 3, "limit_val_batches": 1, "accelerator": "cpu"},
    "sweep": {
        "metric": "val/loss",
        "direction": "min",
        "trials": 3,
        "sampler": "random",
        "pruner": "none",
        "space": {"optim.lr": {"log_uniform": [1e-3, 1e-1]}},
    },
}


def test_two_sweep_processes_share_one_study_through_postgres(tmp_path, postgres_url):  # noqa: F811
    config = tmp_path / "sweep.yaml"
    config.write_text(yaml.safe_dump(SWEEP))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "litrain",
                "sweep",
                str(config),
                "--run-dir",
                str(tmp_path / name),
                "--quiet",
                "--storage",
                postgres_url,
                "--study-name",
                "shared",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for name in ("a", "b")
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    ts = [t for t in study.get_trials() if not t.user_attrs.get("litrain_surplus")]
    assert len(ts) == 3 and all(t.state == TrialState.COMPLETE for t in ts)
    assert study.user_attrs["litrain_space"] == {"optim.lr": {"log_uniform": [1e-3, 1e-1]}}
    dirs = {Path(d).name: d for d in (tmp_path / "a").glob("trial-*")} | {
        Path(d).name: d for d in (tmp_path / "b").glob("trial-*")
    }
    assert sorted(dirs) == sorted(t.user_attrs["litrain_dir"] for t in ts)
    for t in ts:
        assert (dirs[t.user_attrs["litrain_dir"]] / "summary.json").is_file()
    # each process's report reads the study as it stood when its own loop ended: the one that
    # ended last saw every trial
    best = [yaml.safe_load((tmp_path / n / "best.yaml").read_text())["optim"]["lr"] for n in ("a", "b")]
    assert study.best_trial.params["optim.lr"] in best
    assert set(best) <= {t.params["optim.lr"] for t in ts}
