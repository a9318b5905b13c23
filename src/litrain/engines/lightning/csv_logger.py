"""A CSV logger that appends to the run's metrics.csv instead of deleting it.

Lightning's CSV writer removes an existing metrics.csv when it starts, so every
``--resume`` erased the log of the epochs before it. A litrain run dir holds one run (a new
run into a used dir is refused unless ``--overwrite``, which empties it first), so an
existing file can only be this run's own history: keep it and add to it.
"""

from __future__ import annotations

import csv

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter


class _AppendingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as f:
                self.metrics_keys = list(csv.DictReader(f).fieldnames or [])


class AppendingCSVLogger(CSVLogger):
    @property
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment
