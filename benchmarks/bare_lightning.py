"""A bare ``L.Trainer`` fit of the same model, data, optimizer and schedule a litrain config
builds: the reference ``benchmarks/overhead.py --bare`` measures litrain's Lightning engine
against.

Same loop features as ``litrain fit`` with the Lightning engine, written the way the
Lightning docs write them: a LightningModule whose ``training_step`` logs the loss
(``on_step`` and ``on_epoch``), a validation step logging the loss and updating the task's
validation metrics (logged at the epoch's end), ``configure_optimizers`` with litrain's own
optimizer and schedule builders, a ``CSVLogger``, a ``ModelCheckpoint`` keeping the best and
the last checkpoint by the run's monitor, Lightning's sanity check and ``log_every_n_steps``.
Left out: what litrain adds on top (the NaN guard, mid-epoch resume state and resumable
loader, preemption handling, history.json, atomic fsynced checkpoints, the run directory's
files), which is the cost being measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from litrain.config import Config
from litrain.optim.optimizers import build_optimizer
from litrain.optim.schedulers import build_schedulers
from litrain.run.config_source import as_config
from litrain.run.parts import build_parts


class BareModule(L.LightningModule):
    def __init__(self, model: Any, task: Any, cfg: Config) -> None:
        super().__init__()
        self.model, self.task, self.optim_cfg = model, task, cfg.optim
        self.val_metrics = task.metrics("val/")

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = self.task.unpack(batch)
        loss = self.task.loss(self.model(x), y)
        self.log("train/loss", loss, on_step=True, on_epoch=True, batch_size=len(x))
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = self.task.unpack(batch)
        logits = self.model(x)
        self.log("val/loss", self.task.loss(logits, y), on_epoch=True, batch_size=len(x))
        self.val_metrics.update(self.task.metric_inputs(logits), y)

    def on_validation_epoch_end(self) -> None:
        self.log_dict(self.val_metrics.compute())
        self.val_metrics.reset()

    def configure_optimizers(self) -> Any:
        optimizer = build_optimizer(self, self.optim_cfg, None)
        total = int(self.trainer.estimated_stepping_batches)  # sets up the train loader first
        specs = build_schedulers(optimizer, self.optim_cfg, int(self.trainer.num_training_batches), total)
        return [optimizer], [{"scheduler": s.scheduler, "interval": s.interval} for s in specs]


def fit_bare(overrides: dict[str, Any], run_dir: Path, callbacks: list[L.Callback]) -> None:
    cfg = as_config(None, overrides)
    L.seed_everything(cfg.run.seed, verbose=False)
    parts = build_parts(cfg)
    cfg, dm = parts.config, parts.datamodule
    monitor, mode = cfg.checkpoint.monitor, cfg.checkpoint.mode
    trainer = L.Trainer(
        max_epochs=cfg.trainer.max_epochs,
        accelerator="cpu",
        devices=1,
        logger=CSVLogger(str(run_dir), name="logs", version=""),
        callbacks=[
            ModelCheckpoint(dirpath=str(run_dir / "checkpoints"), monitor=monitor, mode=mode, save_last=True),
            *callbacks,
        ],
        log_every_n_steps=cfg.trainer.log_every_n_steps,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    module = BareModule(parts.model, parts.task, cfg)
    trainer.fit(module, train_dataloaders=dm.train_dataloader(), val_dataloaders=dm.val_dataloader())
