"""The search: the sampler and pruner a ``sweep:`` names, and a trial's values drawn from its
space."""

from __future__ import annotations

from typing import Any

import optuna

from litrain.config.sweep import SweepConfig


def grid_values(sweep: SweepConfig) -> dict[str, list[Any]]:
    """Every point of a grid: a choice's values, an int range's integers."""
    out: dict[str, list[Any]] = {}
    for key, p in sweep.space.items():
        out[key] = list(p.choice) if p.kind == "choice" else list(range(p.bounds[0], p.bounds[1] + 1))
    return out


def grid_size(sweep: SweepConfig) -> int:
    n = 1
    for values in grid_values(sweep).values():
        n *= len(values)
    return n


def make_sampler(sweep: SweepConfig, seed: int | None) -> optuna.samplers.BaseSampler:
    if sweep.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if sweep.sampler == "grid":
        return optuna.samplers.GridSampler(grid_values(sweep), seed=seed)
    if sweep.sampler == "cmaes":
        # CMA-ES samples the continuous keys; a choice goes to its independent sampler
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(sweep: SweepConfig, max_epochs: int) -> optuna.pruners.BasePruner:
    if sweep.pruner == "median":
        # the first trials run to their end: a median of fewer would prune at random
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if sweep.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(max_epochs, 1))
    return optuna.pruners.NopPruner()


def suggest(trial: optuna.Trial, sweep: SweepConfig) -> dict[str, Any]:
    """The trial's value of each key of the space."""
    params: dict[str, Any] = {}
    for key, p in sweep.space.items():
        if p.kind == "choice":
            params[key] = trial.suggest_categorical(key, p.choice)
        elif p.kind == "int":
            params[key] = trial.suggest_int(key, p.bounds[0], p.bounds[1])
        else:
            params[key] = trial.suggest_float(key, p.bounds[0], p.bounds[1], log=p.kind == "log_uniform")
    return params
