"""Records per-epoch metrics to run_dir/history.json each epoch (so a crashed run keeps
them) and draws plots/ when fit ends or fails (drawing each epoch would cost more than a
small model's epoch)."""

from __future__ import annotations

from pathlib import Path

import lightning as L

from litrain.run.report import epoch_metrics, plot_history, write_json


class HistoryCallback(L.Callback):
    def __init__(self, run_dir: Path, plot: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.plot = plot
        self.history: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        row = {"epoch": trainer.current_epoch, "step": trainer.global_step}
        row.update(epoch_metrics(trainer.callback_metrics))
        self.history = [r for r in self.history if r["epoch"] != row["epoch"]] + [row]
        write_json(self.run_dir / "history.json", self.history)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.plot and trainer.is_global_zero:
            plot_history(self.history, self.run_dir / "plots")

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exc: BaseException) -> None:
        self.on_fit_end(trainer, pl_module)

    def state_dict(self) -> dict:
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict) -> None:
        self.history = list(state_dict.get("history", []))
