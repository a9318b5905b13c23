"""The report's export section: each artefact ``litrain export`` wrote for the run (its
``<file>.report.json``, beside the checkpoint or wherever ``--output`` put it inside the run
dir) with the gate's numbers against the PyTorch model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litrain.report.read import Run, as_float, json_file
from litrain.report.tables import table

REPORT_SUFFIX = ".report.json"  # as litrain.export.build writes it (the report imports no torch)
PATTERNS = (f"*{REPORT_SUFFIX}", f"checkpoints/*{REPORT_SUFFIX}")
HEADER = ("file", "artefact", "size MB", "max diff", "agreement", "metric", "Δ metric", "ECE", "gate")


def export_reports(run: Run) -> list[Path]:
    return sorted({p for pattern in PATTERNS for p in run.path.glob(pattern) if p.is_file()})


def _row(file: str, artefact: dict[str, Any]) -> list[Any]:
    numbers = artefact.get("numbers") if isinstance(artefact.get("numbers"), dict) else {}
    size = as_float(artefact.get("size_bytes"))
    metric = artefact.get("metric")
    value = as_float(artefact.get("metric_value"))
    return [
        file,
        str(artefact.get("name", "")),
        size / 1e6 if size is not None else None,
        as_float(numbers.get("max_abs_diff")),
        as_float(numbers.get("agreement")),
        f"{metric} {value:.4f}" if metric and value is not None else None,
        as_float(artefact.get("metric_delta")),
        as_float(artefact.get("ece")),
        "passed" if artefact.get("passed", True) else "FAILED",
    ]


def exports(run: Run) -> str | None:
    rows = []
    for path in export_reports(run):
        record = json_file(path)
        artefacts = record.get("artefacts") if isinstance(record, dict) else None
        for artefact in artefacts if isinstance(artefacts, list) else []:
            if isinstance(artefact, dict) and artefact.get("name") != "pytorch":  # the reference row
                rows.append(_row(path.name.removesuffix(REPORT_SUFFIX), artefact))
    return table(HEADER, rows) if rows else None
