"""A fault for test_mlflow_faults.py, imported by the fit subprocess via class_path: the
MLflow server dies (its process group SIGKILLed) at the end of the first training epoch."""

from __future__ import annotations

import os
import signal
import time
import urllib.request

import lightning as L


class KillServer(L.Callback):
    def __init__(self, pgid: int, uri: str) -> None:
        self.pgid, self.uri, self.done = pgid, uri, False

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.done:
            return
        self.done = True
        os.killpg(self.pgid, signal.SIGKILL)
        for _ in range(600):  # until nothing answers: the rest of the run logs to a dead server
            try:
                urllib.request.urlopen(self.uri + "/health", timeout=2).close()
            except OSError:
                return
            time.sleep(0.1)
