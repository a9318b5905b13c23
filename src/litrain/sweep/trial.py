"""One trial: the run the study's values make, trained as a member of the sweep's run group,
its validation epochs reported to the study (which may prune it), its value told back."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from litrain.config import Config
from litrain.config.sweep import SweepConfig
from litrain.config.sweep_check import trial_config
from litrain.errors import ConfigError, LitrainError
from litrain.registry import ENGINES
from litrain.run.group import Member, RunGroup
from litrain.run.lifecycle import fit_run
from litrain.run.result import RunResult
from litrain.run.stages import InitWeights, read_summary
from litrain.sweep.space import suggest
from litrain.sweep.study import SURPLUS, TRIAL_DIR, WORKER, counted, fail_and_requeue, worker_id


class OptunaReport:
    """The study's side of ``litrain.run.trial.EpochReport``: the sweep's metric each
    validation epoch as the trial's intermediate value; the pruner decides."""

    def __init__(self, trial: optuna.Trial, metric: str) -> None:
        self.trial, self.metric = trial, metric
        self.pruned = False

    def report(self, epoch: int, metrics: Mapping[str, float]) -> str | None:
        value = metrics.get(self.metric)
        if value is None:
            return None
        self.trial.report(float(value), step=epoch)
        if self.trial.should_prune():
            self.pruned = True
            return f"trial {self.trial.number} pruned at epoch {epoch}: {self.metric} = {value:.4g}"
        return None


def member_name(number: int) -> str:
    return f"trial-{number:04d}"


class TrialFit:
    """The sweep group's member fit: the lifecycle's fit with an engine that reports to the
    trial being run (``report``, set before each trial)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.report: OptunaReport | None = None

    def __call__(
        self, cfg: Config, *, run_dir: Path, resume: str | None, overwrite: bool, init: InitWeights | None
    ) -> RunResult:
        engine = ENGINES.get(cfg.run.engine)()
        engine.trial = self.report
        return fit_run(
            cfg, engine, run_dir=run_dir, resume=resume, overwrite=overwrite, quiet=self.quiet, init=init
        )


def run_trial(
    study: optuna.Study, group: RunGroup, fit: TrialFit, base: Config, sweep: SweepConfig, budget: int
) -> tuple[str, dict[str, Any]]:
    """Ask the study for a trial, train it, tell its outcome; (state name, params). A trial
    that two processes' asks made one too many is failed at once as surplus (not counted)."""
    trial = study.ask()
    if TRIAL_DIR not in trial.user_attrs and counted(study, below=trial.number) >= budget:
        trial.set_user_attr(SURPLUS, True)
        study.tell(trial, state=TrialState.FAIL)
        return "SURPLUS", {}
    trial.set_user_attr(WORKER, worker_id())
    name = trial.user_attrs.get(TRIAL_DIR) or member_name(trial.number)  # a retried trial: its dir
    trial.set_user_attr(TRIAL_DIR, name)
    params = suggest(trial, sweep)
    report = fit.report = OptunaReport(trial, sweep.metric)
    try:
        cfg = group.member_config(trial_config(base, params), name)
        out = group.fit(Member(name, cfg, record={"trial": trial.number, "params": params}))
    except LitrainError:  # the user's to fix (a refused value, OOM): the trial failed, sweep stops
        study.tell(trial, state=TrialState.FAIL)
        raise
    except BaseException:  # killed, interrupted: the same values run again in the same dir
        fail_and_requeue(study, _frozen(study, trial))
        raise
    if out is not None and out.summary.get("preempted"):
        fail_and_requeue(study, _frozen(study, trial))
        return "PREEMPTED", params
    summary = read_summary(group.member_dir(name)) or {}
    value = (summary.get("metrics") or {}).get(sweep.metric)
    if report.pruned or "pruned at epoch" in str(summary.get("stop_reason", "")):
        study.tell(trial, state=TrialState.PRUNED)
        return "PRUNED", params
    if value is None:
        study.tell(trial, state=TrialState.FAIL)
        logged = ", ".join(sorted(summary.get("metrics") or {})) or "none"
        raise ConfigError(
            f"sweep.metric={sweep.metric} was not logged by trial {trial.number}: choose one of {logged}"
        )
    study.tell(trial, float(value))
    return "COMPLETE", params


def _frozen(study: optuna.Study, trial: optuna.Trial) -> optuna.trial.FrozenTrial:
    return study._storage.get_trial(trial._trial_id)
