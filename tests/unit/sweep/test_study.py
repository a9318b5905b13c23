"""The study side of a sweep (sweep/study.py, sweep/trial.py) on a real journal storage, with
a fake member fit: the space recorded and a different one refused by name, a trial's outcome
told as the storage reads it back (complete with its value, pruned, surplus), and a trial left
running by a killed process failed and queued again in its own run dir."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from litrain.config import load_config
from litrain.config.sweep_check import sweep_of, trial_base
from litrain.errors import ConfigError
from litrain.run.group import RunGroup
from litrain.run.result import RunResult
from litrain.sweep.study import RETRIED, TRIAL_DIR, WORKER, open_storage, open_study, recover_stale
from litrain.sweep.trial import TrialFit, run_trial

SPACE = {"optim.lr": {"log_uniform": [1e-4, 1e-1]}, "data.batch_size": {"choice": [16, 32]}}


def _cfg(space=SPACE, **sweep):
    return load_config(base={"sweep": {"metric": "val/acc", "space": space, **sweep}})


def _study(tmp_path, cfg, pruner=None):
    sweep = sweep_of(cfg)
    storage = open_storage(None, tmp_path)
    pruner = pruner or optuna.pruners.NopPruner()
    return open_study(storage, "s", sweep, optuna.samplers.RandomSampler(seed=0), pruner, "here"), sweep


class FakeFit(TrialFit):
    """Reports ``values`` epoch by epoch like an engine, stops when told, writes summary.json."""

    def __init__(self, values):
        super().__init__(quiet=True)
        self.values = values
        self.dirs: list[Path] = []

    def __call__(self, cfg, *, run_dir, resume, overwrite, init):
        self.dirs.append(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        reason = ""
        for epoch, v in enumerate(self.values):
            reason = self.report.report(epoch, {"val/acc": v}) or ""
            if reason:
                break
        summary = {"metrics": {"val/acc": v}, "stop_reason": reason or "max_epochs reached"}
        (run_dir / "summary.json").write_text(json.dumps(summary))
        return RunResult(summary["metrics"], run_dir, cfg, summary=summary)


class AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def _group(tmp_path, fit):
    return RunGroup(tmp_path, fit, status_file="sweep.json", members_key="trials", kind="trial", quiet=True)


def test_a_trial_is_told_its_last_value_and_trains_in_its_own_dir(tmp_path):
    cfg = _cfg()
    study, sweep = _study(tmp_path, cfg)
    fit = FakeFit([0.25, 0.5])
    state, params = run_trial(study, _group(tmp_path, fit), fit, trial_base(cfg), sweep, budget=3)
    (t,) = optuna.load_study(study_name="s", storage=open_storage(None, tmp_path)).trials
    assert state == "COMPLETE" and t.state == TrialState.COMPLETE and t.value == 0.5
    assert t.params == params and t.intermediate_values == {0: 0.25, 1: 0.5}
    assert fit.dirs == [tmp_path / "trial-0000"] and t.user_attrs[TRIAL_DIR] == "trial-0000"


def test_a_pruned_trial_is_recorded_pruned(tmp_path):
    cfg = _cfg()
    study, sweep = _study(tmp_path, cfg, AlwaysPrune())
    fit = FakeFit([0.25, 0.5])
    state, _ = run_trial(study, _group(tmp_path, fit), fit, trial_base(cfg), sweep, budget=3)
    (t,) = optuna.load_study(study_name="s", storage=open_storage(None, tmp_path)).trials
    assert state == "PRUNED" and t.state == TrialState.PRUNED and t.intermediate_values == {0: 0.25}


def test_a_trial_over_the_budget_is_surplus_and_never_trains(tmp_path):
    cfg = _cfg()
    study, sweep = _study(tmp_path, cfg)
    fit = FakeFit([0.5])
    group = _group(tmp_path, fit)
    run_trial(study, group, fit, trial_base(cfg), sweep, budget=1)
    state, _ = run_trial(study, group, fit, trial_base(cfg), sweep, budget=1)
    assert state == "SURPLUS" and len(fit.dirs) == 1
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL]


def test_the_same_study_name_with_another_space_is_refused_naming_the_difference(tmp_path):
    _study(tmp_path, _cfg())
    other = {"optim.lr": {"log_uniform": [1e-3, 1e-1]}, "model.dropout": {"uniform": [0.0, 0.5]}}
    with pytest.raises(ConfigError) as exc:
        _study(tmp_path, _cfg(other))
    msg = str(exc.value)
    assert "study s in here searches another space" in msg
    assert "data.batch_size only there" in msg and "model.dropout only here" in msg
    assert "optim.lr {'log_uniform': [0.0001, 0.1]} there, {'log_uniform': [0.001, 0.1]} here" in msg
    with pytest.raises(ConfigError, match="direction 'maximize' there, 'minimize' here"):
        _study(tmp_path, _cfg(direction="min"))
    _study(tmp_path, _cfg())  # the same search joins


def test_a_trial_left_running_by_a_dead_process_is_failed_and_queued_again_in_its_dir(tmp_path):
    cfg = _cfg()
    study, _ = _study(tmp_path, cfg)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    import socket

    trial = study.ask({"optim.lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
    trial.set_user_attr(WORKER, f"{socket.gethostname()}:{gone.stdout.strip()}")
    trial.set_user_attr(TRIAL_DIR, "trial-0000")
    alive = study.ask()
    alive.set_user_attr(WORKER, f"{socket.gethostname()}:{__import__('os').getpid()}")  # this process
    assert recover_stale(study) == [0]
    t0, t1, t2 = study.get_trials()
    assert t0.state == TrialState.FAIL and t0.user_attrs[RETRIED] is True
    assert t1.state == TrialState.RUNNING  # its process lives: left alone
    assert t2.state == TrialState.WAITING and t2.user_attrs[TRIAL_DIR] == "trial-0000"
    assert t2.system_attrs["fixed_params"] == t0.params
