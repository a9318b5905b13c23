"""``model.ensemble`` at fit: the members trained one after another as a run group
(``litrain.run.group``: each ``<dir>/memberI/`` is an ordinary fit, skipped when finished and
resumed from its last checkpoint when interrupted), then pooled: the combine weights and the
temperature fitted on the validation split, and ``<dir>/ensemble.json`` written, which
``litrain.load``, ``litrain test`` and ``litrain predict --run-dir`` read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from litrain.config import Config
from litrain.config.ensemble import member_configs
from litrain.core.atomic import atomic_write_json
from litrain.errors import ConfigError
from litrain.launch.environment import is_global_zero
from litrain.run.group import GroupResult, Member, RunGroup, choose_group_dir, engine_fit, in_dir
from litrain.run.result import RunResult
from litrain.tasks import uncertainty as U
from litrain.tasks.classification_files import save_reliability
from litrain.trained.calibrated import CLASSIFICATION
from litrain.trained.ensemble import ENSEMBLE_FILE, Ensemble
from litrain.trained.temperature import fit_temperature

GROUP_FILE = "ensemble_group.json"  # the run group's status (members pending/running/finished)
CONFIG_FILE = "ensemble.yaml"  # the config with model.ensemble, as the group ran it


def fit_simplex_weights(members: Tensor, targets: Tensor, mode: str, steps: int = 200) -> Tensor:
    """(M,) weights on the simplex (a softmax of free parameters, from uniform) minimising the
    NLL of ``targets`` under the weighted mean of (M, N, C) member probabilities; LBFGS in
    float64, deterministic. Never worse than uniform (kept where it is not better)."""
    m = members.detach().double()
    free = torch.zeros(m.shape[0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([free], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

    def loss_of(w: Tensor) -> Tensor:
        return U.nll((w[:, None, None] * m).sum(0), targets, mode)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = loss_of(free.softmax(0))
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    fitted = free.detach().softmax(0)
    uniform = torch.full_like(fitted, 1 / len(fitted))
    return fitted if loss_of(fitted) <= loss_of(uniform) else uniform


def _pooled_logits(pooled: Tensor, mode: str) -> Tensor:
    p = pooled.double().clamp(1e-12, 1 - 1e-12)
    if mode == "multiclass":
        return p.log()
    if mode == "binary":
        p = p[:, 1:]
    return p.log() - (1 - p).log()


def pool_members(ensemble: Ensemble, cfg: Config) -> dict[str, Any]:
    """Fit the combine weights and (``calibrate: auto``) the temperature on the validation
    split; sets them on ``ensemble`` and returns the record for ensemble.json."""
    ens = cfg.model.ensemble
    assert ens is not None
    mode = ensemble.task.mode
    members, targets = ensemble.split_probs("val")
    if targets is None:
        raise ConfigError(
            "pooling an ensemble needs targets in the validation split, and its batches carry none"
        )
    y = targets.long() if mode == "multiclass" else targets
    weights = fit_simplex_weights(members, y, mode) if ens.combine == "val_nll_weights" else None
    if weights is not None:
        ensemble.weights.copy_(weights)
    pooled = (ensemble.weights[:, None, None] * members.double()).sum(0)
    record: dict[str, Any] = {
        "val_samples": len(targets),
        "val_nll_uniform": float(U.nll(members.double().mean(0), y, mode)),
        "val_nll_pooled": float(U.nll(pooled, y, mode)),
        "val_member_nll": [float(U.nll(p, y, mode)) for p in members],
    }
    if ens.calibrate == "auto":
        logits = _pooled_logits(pooled, mode)
        temperature = fit_temperature(logits, targets, mode)
        ensemble.set_temperature(temperature)  # () multiclass, (1,) binary, (K,) multilabel
        calibrated = ensemble.task.prediction((logits / temperature.double()).float()).double()
        record["calibration"] = {
            "method": "temperature",
            "temperature": temperature.tolist(),
            "val_nll_before": record["val_nll_pooled"],
            "val_nll_after": float(U.nll(calibrated, y, mode)),
        }
    curves = {"uniform mean": members.mean(0), "pooled": pooled}
    if ens.calibrate == "auto":
        curves["pooled + temperature"] = calibrated
    ensemble.val_curves = {k: U.reliability_bins(p, y, mode) for k, p in curves.items()}
    return record


def ensemble_dir(cfg: Config, run_dir: str | Path | None, resume: str | None, overwrite: bool) -> Path:
    return choose_group_dir(cfg, run_dir, resume, overwrite, status_file=GROUP_FILE, kind="ensemble")


def fit_ensemble(
    cfg: Config,
    make_engine: Callable[[Config], Any],
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
) -> RunResult:
    """Train the members of ``cfg.model.ensemble`` in order into ``<dir>/memberI/`` (a rerun
    continues: finished members are skipped, an interrupted one resumes), then pool them
    into ``<dir>/ensemble.json``. The result's metrics are the pooled validation NLLs."""
    if cfg.task.type not in CLASSIFICATION:
        raise ConfigError(
            f"model.ensemble pools class probabilities, and task.type={cfg.task.type} is not classification"
        )
    if resume not in (None, "last"):
        raise ConfigError(
            "model.ensemble: --resume takes last (rerunning with the same --run-dir also continues)"
        )
    configs = member_configs(cfg)
    base = ensemble_dir(cfg, run_dir, resume, overwrite)
    group = RunGroup(base, engine_fit(make_engine, quiet), status_file=GROUP_FILE, kind="member", quiet=quiet)
    members = [Member(name, in_dir(mcfg, group.member_dir(name))) for name, mcfg in configs]
    group.start(members, config=cfg, config_file=CONFIG_FILE)  # refuses a changed finished member first
    if (base / ENSEMBLE_FILE).is_file() and is_global_zero():
        (base / ENSEMBLE_FILE).unlink()  # pooled from members about to change: written again below
    out: GroupResult = group.run(members)
    result = RunResult({}, base, cfg, summary=out.summary)
    if out.preempted:
        return RunResult({}, base, cfg, summary={**out.summary, "preempted": True})
    ens = cfg.model.ensemble
    assert ens is not None
    ensemble = Ensemble([group.member_dir(n) for n, _ in configs], ens.combine)
    record = pool_members(ensemble, cfg)
    pooled = {
        "members": [n for n, _ in configs],
        "combine": ens.combine,
        "weights": ensemble.weights.tolist(),
        **record,
    }
    if is_global_zero():
        save_reliability(ensemble.val_curves, base, "reliability_val")
        atomic_write_json(base / ENSEMBLE_FILE, pooled)
    metrics = {"val/nll_pooled": record["val_nll_pooled"]}
    if "calibration" in record:
        metrics["val/nll_calibrated"] = record["calibration"]["val_nll_after"]
    for i, v in enumerate(record["val_member_nll"]):
        metrics[f"val/member{i}_nll"] = v
    result.metrics = metrics
    result.summary = {**out.summary, "ensemble": pooled}
    return result


def unfinished(path: str | Path) -> None:
    """Refuse, in one line, the dir of a ``model.ensemble`` fit whose members are not all
    trained and pooled yet (it has the group's status file and no ensemble.json)."""
    base = Path(path)
    if (base / GROUP_FILE).is_file() and not (base / ENSEMBLE_FILE).is_file():
        raise ConfigError(
            f"{base} is an ensemble whose members did not all finish: rerun the same litrain fit "
            "command (it continues) before loading it"
        )
