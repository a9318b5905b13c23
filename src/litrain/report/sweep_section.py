"""The report's sweep section, for a ``litrain sweep`` dir (its ``study.json``): the study,
the best trial and its values, the parameter importances and every trial."""

from __future__ import annotations

from typing import Any

from litrain.report.read import Run, as_float, json_file
from litrain.report.tables import pairs, table

STUDY_FILE = "study.json"  # as litrain.sweep.report writes it (the report imports no optuna)


def sweep(run: Run) -> str | None:
    study = json_file(run.file(STUDY_FILE))
    if not isinstance(study, dict):
        return None
    best = study.get("best") if isinstance(study.get("best"), dict) else {}
    states = study.get("states") if isinstance(study.get("states"), dict) else {}
    head = pairs(
        [
            ("study", study.get("study")),
            ("metric", f"{study.get('metric')} ({study.get('direction')})"),
            ("trials", ", ".join(f"{n} {s.lower()}" for s, n in states.items()) or None),
            ("best trial", best.get("trial")),
            ("best value", as_float(best.get("value"))),
            *((f"best {k}", v) for k, v in (best.get("params") or {}).items()),
        ]
    )
    importances = study.get("importances") if isinstance(study.get("importances"), dict) else {}
    weights = table(["parameter", "importance"], [[k, as_float(v)] for k, v in importances.items()])
    trials = [t for t in study.get("trials") or [] if isinstance(t, dict)]
    keys = sorted({k for t in trials for k in (t.get("params") or {})})
    rows: list[list[Any]] = [
        [t.get("trial"), t.get("state"), as_float(t.get("value")), t.get("epochs")]
        + [(t.get("params") or {}).get(k) for k in keys]
        for t in trials
    ]
    return head + (weights if importances else "") + table(["trial", "state", "value", "epochs", *keys], rows)
