"""A sweep's results, read back from the study (every worker's trials): the trial table
(trials.csv, study.json), ``best.yaml`` (the best trial's whole config, ready for ``litrain
fit --config``), parameter importances (two complete trials or more), the run group's
status file with one record per trial; and the table the CLI prints."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from litrain.config import Config
from litrain.config.sweep import SweepConfig
from litrain.config.sweep_check import trial_config
from litrain.core.atomic import atomic_write_text
from litrain.core.noise import note
from litrain.launch.environment import is_global_zero
from litrain.run.group import Member, RunGroup
from litrain.run.report import write_config, write_json
from litrain.sweep.study import RETRIED, SURPLUS, TRIAL_DIR

STUDY_FILE, TRIALS_CSV, BEST_FILE = "study.json", "trials.csv", "best.yaml"


def rows(study: optuna.Study, base_dir: Path) -> list[dict[str, Any]]:
    """One row per trial the sweep ran (surplus asks left out), in trial order."""
    out = []
    for t in study.get_trials(deepcopy=False):
        if t.user_attrs.get(SURPLUS):
            continue
        value = t.value if t.value is not None else (t.intermediate_values or {}).get(t.last_step)
        state = t.state.name
        if state == "FAIL" and t.user_attrs.get(RETRIED):
            state = "FAIL (retried)"
        name = t.user_attrs.get(TRIAL_DIR)
        out.append(
            {
                "trial": t.number,
                "state": state,
                "value": None if value is None or not math.isfinite(value) else float(value),
                "epochs": len(t.intermediate_values),
                "params": dict(t.params),
                "run_dir": str(base_dir / name) if name else None,
            }
        )
    return out


def importances(study: optuna.Study) -> dict[str, float]:
    """Each key's share of the value's variance (fANOVA), with two complete trials or more."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    try:
        return {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
    except (ValueError, RuntimeError) as exc:  # e.g. every trial drew the same values
        note(f"sweep: no parameter importances ({exc})")
        return {}


def finish(
    study: optuna.Study, group: RunGroup, base: Config, sweep: SweepConfig, where: str, preempted: bool
) -> dict[str, Any]:
    table = rows(study, group.base)
    best = None
    if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        bt = study.best_trial
        best = {"trial": bt.number, "value": bt.value, "params": dict(bt.params)}
    summary: dict[str, Any] = {
        "study": study.study_name,
        "storage": where,
        "metric": sweep.metric,
        "direction": sweep.direction,
        "trials_wanted": sweep.trials,
        "states": _count_states(table),
        "best": best,
        "best_config": None,
        "importances": importances(study),
        "trials": table,
    }
    if is_global_zero():
        if best is not None:
            cfg = trial_config(base, best["params"])
            cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"dir": None})})
            write_config(cfg, group.base / BEST_FILE)
            summary["best_config"] = str(group.base / BEST_FILE)
        write_json(group.base / STUDY_FILE, summary)
        atomic_write_text(group.base / TRIALS_CSV, to_csv(table, list(sweep.space)))
    group.records = [
        group._record(
            Member(
                Path(r["run_dir"]).name,
                base,
                record={"trial": r["trial"], "state": r["state"], "value": r["value"], "params": r["params"]},
            ),
            _status(r["state"]),
        )
        for r in table
        if r["run_dir"] and not r["state"].startswith("FAIL (retried")
    ]
    group.write("preempted" if preempted else "finished")
    return summary


def _status(state: str) -> str:
    return {"COMPLETE": "finished", "PRUNED": "finished", "RUNNING": "running", "WAITING": "pending"}.get(
        state, "failed"
    )


def _count_states(table: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in table:
        out[r["state"]] = out.get(r["state"], 0) + 1
    return out


def to_csv(table: list[dict[str, Any]], keys: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["trial", "state", "value", "epochs", *keys, "run_dir"])
    for r in table:
        w.writerow(
            [
                r["trial"],
                r["state"],
                r["value"],
                r["epochs"],
                *(r["params"].get(k) for k in keys),
                r["run_dir"],
            ]
        )
    return buf.getvalue()


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def render(summary: dict[str, Any], width: int = 80) -> str:
    """The trial table and the importances as text no wider than ``width``."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=width, file=io.StringIO(), force_terminal=False, color_system=None)
    t = Table(
        title=f"study {summary['study']}: {summary['metric']} ({summary['direction']})", title_justify="left"
    )
    t.add_column("trial", justify="right")
    t.add_column("state")
    t.add_column("value", justify="right")
    t.add_column("params", overflow="fold")
    best = (summary.get("best") or {}).get("trial")
    for r in summary["trials"]:
        params = ", ".join(f"{k.rsplit('.', 1)[-1]}={_fmt(v)}" for k, v in r["params"].items())
        mark = " *" if r["trial"] == best else ""
        t.add_row(
            f"{r['trial']}{mark}", r["state"].lower(), "" if r["value"] is None else _fmt(r["value"]), params
        )
    console.print(t)
    if summary.get("best"):
        b = summary["best"]
        console.print(
            f"best: trial {b['trial']}, {summary['metric']} = {_fmt(b['value'])} -> {summary['best_config']}"
        )
    if summary.get("importances"):
        console.print("importances: " + ", ".join(f"{k} {v:.2f}" for k, v in summary["importances"].items()))
    out: str = console.file.getvalue()  # type: ignore[attr-defined]
    return out
