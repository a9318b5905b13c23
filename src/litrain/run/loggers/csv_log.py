"""CSV: run_dir/logs/metrics.csv in the layout of Lightning's CSVLogger (the Lightning
engine uses that logger, appending on resume: ``engines/lightning/csv_logger.py``).

One row per logging call, columns ``epoch``, ``step`` and every metric name, sorted; empty
where a row has no value. Rows are buffered and the file is rewritten at each flush (once
per epoch), so new metric names just widen the header."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from litrain.config import Config
from litrain.core.atomic import atomic_open
from litrain.run.loggers.spec import Checkpoints, LoggerSpec


class MetricsCsv:
    def __init__(self, log_dir: Path, resume: bool = False) -> None:
        self.path = log_dir / "metrics.csv"
        self.rows: list[dict[str, Any]] = []
        if resume and self.path.is_file():
            with self.path.open(newline="") as f:
                self.rows = [{k: v for k, v in r.items() if v != ""} for r in csv.DictReader(f)]

    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        self.rows.append({**metrics, "epoch": epoch, "step": step})

    def flush(self) -> None:
        if not self.rows:
            return
        keys = sorted({k for r in self.rows for k in r})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.rows)

    def close(self, checkpoints: Checkpoints) -> None:
        self.flush()


def write_hparams(log_dir: Path, config: dict[str, Any]) -> None:
    """logs/hparams.yaml, as Lightning's CSVLogger writes the module's hyperparameters."""
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "hparams.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))


def open_csv(cfg: Config, log_dir: Path) -> MetricsCsv:
    writer = MetricsCsv(log_dir, resume=True)  # a resumed run adds to its own rows
    write_hparams(log_dir, cfg.to_dict())
    return writer


SPEC = LoggerSpec(
    key="logging.csv",
    enabled=lambda cfg: cfg.logging.csv,
    writer=open_csv,
    lightning="litrain.engines.lightning.loggers:csv",
)
