"""kill -9 in the middle of a sweep's second trial, then the same command again: the
finished first trial is kept untouched, the killed one is failed in the study and its values
run again in its own dir, resuming from its last checkpoint, and the sweep ends with its
trial count of complete trials.

native engine, 3 batches an epoch, 2 epochs a trial: the kill comes at the process's 10th
training batch, trial 1's epoch 1, after its epoch-0 last.ckpt."""

from __future__ import annotations

import subprocess
import sys

import optuna
import yaml
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from reliability_helpers import kill_env, killrun

SWEEP = {
    "run": {"name": "ksweep", "seed": 5, "engine": "native"},
    "data": {"source": "digits", "val_split": 0.2, "batch_size": 32},
    "model": {"name": "mlp", "hidden": [16]},
    "trainer": {"max_epochs": 2, "limit_train_batches": 3, "limit_val_batches": 2, "accelerator": "cpu"},
    "sweep": {
        "metric": "val/loss",
        "direction": "min",
        "trials": 3,
        "sampler": "random",
        "pruner": "none",
        "space": {"optim.lr": {"log_uniform": [1e-3, 1e-1]}},
    },
}


def test_a_killed_sweep_resumes_keeping_its_finished_trials(tmp_path):
    config, run = tmp_path / "sweep.yaml", tmp_path / "sw"
    config.write_text(yaml.safe_dump(SWEEP))
    killed = killrun(run, "step:10", str(config), command="sweep")
    assert killed.returncode == -9, killed.stderr[-2000:]
    first = (run / "trial-0000" / "summary.json").read_bytes()
    assert not (run / "trial-0001" / "summary.json").exists()
    assert (run / "trial-0001" / "checkpoints" / "last.ckpt").is_file()

    again = subprocess.run(
        [sys.executable, "-m", "litrain", "sweep", str(config), "--run-dir", str(run)],
        env=kill_env(None),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "trial 1 was left running by a stopped process: failed, queued again" in again.stderr
    assert "trial trial-0001: resuming from its last checkpoint" in again.stderr
    study = optuna.load_study(
        study_name="ksweep", storage=JournalStorage(JournalFileBackend(str(run / "study.journal")))
    )
    t0, t1, t2, t3 = study.get_trials()
    assert [t.state for t in (t0, t1, t2, t3)] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.COMPLETE,
        TrialState.COMPLETE,
    ]
    assert t2.params == t1.params and t2.user_attrs["litrain_dir"] == "trial-0001"
    assert t3.user_attrs["litrain_dir"] == "trial-0003"
    assert (run / "trial-0000" / "summary.json").read_bytes() == first  # kept, not trained again
    assert sorted(p.name for p in run.glob("trial-*")) == ["trial-0000", "trial-0001", "trial-0003"]
