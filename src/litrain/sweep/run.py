"""``litrain sweep``: check the search, choose the sweep dir, join the study, run trials in
this process and ``workers - 1`` more until the study holds ``trials`` complete or pruned
ones (over every process and every earlier, stopped call), then write the results
(sweep/report.py)."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from litrain.config import Config
from litrain.config.sweep import SweepConfig
from litrain.config.sweep_check import sweep_of, trial_base
from litrain.core.noise import note
from litrain.errors import ConfigError
from litrain.launch.environment import detect_launch
from litrain.run.group import RunGroup, choose_group_dir
from litrain.run.monitors import has_validation, loggable_metrics
from litrain.sweep.space import grid_size, make_pruner, make_sampler
from litrain.sweep.study import counted, open_storage, open_study, recover_stale, shown
from litrain.sweep.trial import TrialFit, run_trial

SWEEP_FILE = "sweep.json"  # the run group's status file: one record per trial
CONFIG_FILE = "sweep.yaml"  # the config with its sweep: section, as the sweep ran it


@dataclass
class SweepResult:
    run_dir: Path
    study: str
    storage: str
    summary: dict[str, Any] = field(default_factory=dict)  # study.json's contents
    preempted: bool = False


@dataclass(frozen=True)
class SweepPlan:
    """What every worker process needs to join the sweep (picklable for spawn)."""

    config: dict[str, Any]
    run_dir: str
    storage: str | None
    study: str
    quiet: bool


def check_single_process(cfg: Config) -> None:
    t = cfg.trainer
    if detect_launch().external or t.devices not in (1, "1", "auto") or t.num_nodes != 1:
        raise ConfigError(
            "litrain sweep runs each trial on one device for now: set trainer.devices=1 "
            "(use --workers N for several trials at once)"
        )


def check_metric(base: Config, sweep: SweepConfig) -> None:
    """The sweep's metric must be one the trials' runs log: the data and task built once."""
    from litrain.run.parts import build_parts

    parts = build_parts(base)
    names = loggable_metrics(parts.config, parts.task, parts.datamodule)
    if names is None or sweep.metric in names:
        return
    why = "" if has_validation(parts.config, parts.datamodule) else " (this run has no validation data)"
    raise ConfigError(
        f"sweep.metric={sweep.metric} is never logged by a trial{why}: choose one of {', '.join(sorted(names))}"
    )


def run_sweep(
    cfg: Config,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    storage: str | None = None,
    study: str | None = None,
    workers: int = 1,
) -> SweepResult:
    from litrain.sweep.report import finish

    if workers < 1:
        raise ConfigError(f"--workers {workers}: give 1 or more")
    sweep = sweep_of(cfg)  # the section and every key and edge of its space
    check_single_process(cfg)
    base = trial_base(cfg)
    check_metric(base, sweep)
    sdir = choose_group_dir(cfg, run_dir, resume, overwrite, status_file=SWEEP_FILE, kind="sweep")
    url = storage or sweep.storage
    plan = SweepPlan(cfg.to_dict(), str(sdir), url, study or sweep.study or cfg.run.name, quiet)
    st, group, fit = _join(plan, cfg, sweep, 0)
    group.start(config=cfg, config_file=CONFIG_FILE)
    note(
        f"sweep: study {plan.study} in {shown(url, sdir)}, {sweep.trials} trials, {workers} worker(s)", quiet
    )
    procs = []
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch threads
    for index in range(1, workers):
        p = ctx.Process(target=_worker_main, args=(plan, index), name=f"litrain-sweep-{index}")
        p.start()
        procs.append(p)
    try:
        preempted = _work(st, group, fit, base, sweep)
    finally:
        for p in procs:
            p.join()
    bad = [p.exitcode for p in procs if p.exitcode]
    if bad and not preempted:
        raise ConfigError(
            f"a sweep worker stopped with exit code {bad[0]}: rerun the same command to continue"
        )
    summary = finish(st, group, base, sweep, shown(url, sdir), preempted)
    return SweepResult(sdir, plan.study, shown(url, sdir), summary, preempted)


def _join(
    plan: SweepPlan, cfg: Config, sweep: SweepConfig, index: int
) -> tuple[optuna.Study, RunGroup, TrialFit]:
    sdir = Path(plan.run_dir)
    seed = (sweep.seed if sweep.seed is not None else cfg.run.seed) + index  # workers sample apart
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(plan.storage, sdir)
    sampler = make_sampler(sweep, seed)
    pruner = make_pruner(sweep, cfg.trainer.max_epochs)
    study = open_study(storage, plan.study, sweep, sampler, pruner, shown(plan.storage, sdir))
    fit = TrialFit(plan.quiet)
    group = RunGroup(sdir, fit, status_file=SWEEP_FILE, members_key="trials", kind="trial", quiet=plan.quiet)
    return study, group, fit


def _worker_main(plan: SweepPlan, index: int) -> None:
    from litrain.config import load_config

    cfg = load_config(base=plan.config)
    sweep = sweep_of(cfg)
    study, group, fit = _join(plan, cfg, sweep, index)
    _work(study, group, fit, trial_base(cfg), sweep)


def _work(study: optuna.Study, group: RunGroup, fit: TrialFit, base: Config, sweep: SweepConfig) -> bool:
    """Run trials until the budget is used up; True when a trial was preempted."""
    budget = min(sweep.trials, grid_size(sweep)) if sweep.sampler == "grid" else sweep.trials
    for number in recover_stale(study):
        note(
            f"sweep: trial {number} was left running by a stopped process: failed, queued again", group.quiet
        )
    while True:
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if not waiting and counted(study) >= budget:
            return False
        state, _ = run_trial(study, group, fit, base, sweep, budget)
        if state == "PREEMPTED":
            return True
