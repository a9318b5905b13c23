"""What a report reads from a run dir: plain files (JSON, CSV, YAML), no torch, no Lightning.
A file that is missing or unreadable is simply absent from the report."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from litrain.config.diff import flat_keys
from litrain.errors import ConfigError

# What makes a directory a litrain run: config.yaml is written before the first step,
# summary.json at the end; an ensemble dir holds ensemble.json, a sweep's dir study.json.
RUN_MARKERS = ("config.yaml", "summary.json", "ensemble.json", "study.json")


def json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def csv_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, csv.Error, UnicodeDecodeError):
        return []


def as_float(text: Any) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass
class Run:
    """One run dir's readable facts. ``curves``: metric name -> (steps, values), from
    logs/metrics.csv (history.json's epochs when there is no CSV)."""

    path: Path
    name: str
    summary: dict[str, Any]
    config: dict[str, Any]
    config_text: str
    card: dict[str, Any]
    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    x_label: str = "step"

    @property
    def task(self) -> str:
        return str(self.setting("task", "type") or self.card.get("task") or "classification")

    def setting(self, section: str, key: str) -> Any:
        """``config[section][key]``, or None."""
        value = self.config.get(section)
        return value.get(key) if isinstance(value, dict) else None

    @property
    def classes(self) -> list[str]:
        classes = self.card.get("classes")
        return [str(c) for c in classes] if isinstance(classes, list) else []

    def file(self, name: str) -> Path:
        return self.path / name


def open_run(path: str | Path) -> Run:
    """The run at ``path``; a directory without a run's files is a user error (one line)."""
    p = Path(path)
    if not p.is_dir():
        raise ConfigError(f"{p} is not a directory: pass a run dir written by `litrain fit`")
    if not any((p / m).is_file() for m in RUN_MARKERS):
        raise ConfigError(
            f"{p} is not a litrain run (no config.yaml, summary.json, ensemble.json or study.json): "
            "pass the dir `litrain fit` or `litrain sweep` wrote"
        )
    config_text = ""
    config: dict[str, Any] = {}
    if (p / "config.yaml").is_file():
        config_text = (p / "config.yaml").read_text(encoding="utf-8", errors="replace")
        try:
            loaded = yaml.safe_load(config_text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p / 'config.yaml'} is not valid YAML: {exc}") from None
        config = loaded if isinstance(loaded, dict) else {}
    summary, card = json_file(p / "summary.json"), json_file(p / "model_card.json")
    summary = summary if isinstance(summary, dict) else {}  # unreadable: the report goes on
    card = card if isinstance(card, dict) else {}
    section = config.get("run")
    name = str((section.get("name") if isinstance(section, dict) else None) or p.name)
    run = Run(p, name, summary, config, config_text, card)
    run.curves, run.x_label = curves(p)
    return run


def curves(p: Path) -> tuple[dict[str, tuple[list[float], list[float]]], str]:
    """Every logged metric as (x, y) points: per step from logs/metrics.csv (a ``_step`` /
    ``_epoch`` suffix kept so the two stay separate curves), else per epoch from history.json."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    rows = csv_rows(p / "logs" / "metrics.csv")
    if rows:
        for row in rows:
            x = as_float(row.get("step"))
            if x is None:
                continue
            for key, text in row.items():
                if key in ("epoch", "step") or key is None:
                    continue
                y = as_float(text)
                if y is not None:
                    xs, ys = out.setdefault(key, ([], []))
                    xs.append(x)
                    ys.append(y)
        return out, "step"
    history = json_file(p / "history.json")
    if isinstance(history, list):
        for row in history:
            if not isinstance(row, dict):
                continue
            x = as_float(row.get("epoch"))
            for key, v in row.items():
                y = as_float(v)
                if key not in ("epoch", "step") and x is not None and y is not None:
                    xs, ys = out.setdefault(key, ([], []))
                    xs.append(x)
                    ys.append(y)
    return out, "epoch"


flatten = flat_keys  # config keys as the flags spell them (the comparison page's rows)
