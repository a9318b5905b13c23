"""TaskModule: the one LightningModule. It owns no logic of its own beyond the Lightning
hooks: loss, metrics and optimizers come from the task and ``optim`` (shared with the
native engine)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torchmetrics as tm
from torch import nn

from litrain.checkpoint.convert import is_native, read_any, to_lightning
from litrain.config import OptimConfig
from litrain.engines.lightning.callbacks.resume import last_batch_of_epoch
from litrain.engines.lightning.epoch_values import epoch_value_metrics, start_epoch
from litrain.errors import ConfigError
from litrain.models.blocks import backbone_and_head
from litrain.optim.optimizers import build_optimizer
from litrain.optim.schedulers import build_schedulers
from litrain.run.config_source import as_config
from litrain.run.finetune import optimizer_groups
from litrain.run.parts import Parts
from litrain.run.train_batch import TrainBatch, build_train_batch
from litrain.tasks.base import Task

TRAIN_LOSS_SUMS_KEY = "train_loss_sums"  # checkpoint entry: the epoch's running loss sums


def build_module(parts: Parts) -> L.LightningModule:
    """The LightningModule: TaskModule around the model, or the user's own module."""
    if isinstance(parts.model, L.LightningModule):
        return parts.model
    if parts.task is None:
        raise ConfigError(
            f"model.class_path={parts.config.model.class_path} is a plain nn.Module: with "
            "data.class_path it must be a LightningModule (litrain cannot size the task)"
        )
    module = TaskModule(parts.model, parts.task, parts.config.optim, parts.config.to_dict(), parts.card)
    module.train_batch = build_train_batch(parts.config, parts.datamodule, parts.task)
    return module


def _rebuild(config: dict[str, Any] | None, card: dict[str, Any] | None) -> tuple[nn.Module, Task]:
    """Model and task from the config (and model card) a litrain checkpoint saves in its
    hparams: from the card alone when it has one, else by rebuilding the run's data."""
    if not config:
        raise ConfigError(
            "TaskModule needs a model, a task and optim settings, or the config a litrain "
            "checkpoint carries (TaskModule.load_from_checkpoint(path))"
        )
    from litrain.trained.build import parts_for

    parts = parts_for(as_config(config), card)
    if parts.task is None or isinstance(parts.model, L.LightningModule):
        raise ConfigError(
            "this checkpoint's run trained the user's own LightningModule or data "
            "(model/data.class_path): load it with that class's load_from_checkpoint, or litrain.load"
        )
    return parts.model, parts.task


class RunningMean(tm.Metric):
    """Batch-size weighted mean of a per-step scalar, kept on the device: one add per step, no
    host sync. The arithmetic of Lightning's own on_epoch mean (a float32 sum of value x batch
    size over an integer count), so the epoch value is the same number. Per process, as
    ``self.log`` without ``sync_dist`` is."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__(sync_on_compute=False)
        self.add_state("total", torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, value: torch.Tensor, weight: int) -> None:
        value = value.detach()
        if value.dtype not in (torch.float32, torch.float64):
            value = value.float()
        if value.dtype == self.total.dtype:
            self.total.add_(value * weight)
        else:  # float64 values promote the sum, as in Lightning's
            self.total = self.total + value * weight
        self.count.add_(weight)

    def compute(self) -> torch.Tensor:
        return self.total / self.count


def train_metric_collection(task: Task) -> tm.MetricCollection:
    """The task's metrics for training batches, each logged on its own by Lightning at the
    epoch's end; without compute groups, so every metric holds its own state."""
    shared = task.metrics("train/")
    return tm.MetricCollection(dict(shared.items(keep_base=False)), compute_groups=False)


class TaskModule(L.LightningModule):
    """The task's model in Lightning's hooks. ``TaskModule.load_from_checkpoint(path)``
    works on any litrain checkpoint (Lightning or native engine): Lightning then passes only
    the saved ``config``, from which the model, task and optimizer settings are rebuilt
    (the run's data must be where the config says, as for ``litrain.load``)."""

    def __init__(
        self,
        model: nn.Module | None = None,
        task: Task | None = None,
        optim: OptimConfig | None = None,
        config: dict[str, Any] | None = None,
        card: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if model is None or task is None:  # load_from_checkpoint passes the saved hparams only
            model, task = _rebuild(config, card)
        if optim is None:
            optim = as_config(config).optim if config else OptimConfig()
        self.model = model
        self.task = task
        self.optim_cfg = optim
        # finetune's param groups come from the whole config (finetune and optim sections)
        self.run_config = as_config(config) if config else None
        self.lr = optim.lr  # the LR finder reads and writes this attribute
        # The checkpoint describes itself: the full config rides along in hparams.
        # and the model card, so the checkpoint loads without the training data
        self.save_hyperparameters({"config": config or {}, **({"card": card} if card else {})})
        self.val_metrics = task.metrics("val/")
        self.test_metrics = task.metrics("test/")
        self.test_artifacts = task.artifact_metrics("test")
        # logging.train_metrics: the task's metrics on the training batches too
        wants_train = ((config or {}).get("logging") or {}).get("train_metrics")
        self.train_metrics = train_metric_collection(task) if wants_train else None
        # the progress bar shows the monitored metric next to the loss
        self.shown_metric = ((config or {}).get("checkpoint") or {}).get("monitor") or task.monitor
        # Loss means as torchmetrics: they sync (sum, weight) as floats across ranks, so under
        # DDP the epoch value is the 1-process number. (Lightning's sync_dist mean averages an
        # integer sample count, which is off when ranks hold uneven shares.)
        self.val_loss_mean = tm.MeanMetric()
        self.test_loss_mean = tm.MeanMetric()
        self.train_loss_mean = RunningMean()
        self.task_values = epoch_value_metrics(task)  # the task's per-epoch values, if any
        # device batch augmentation and mixup (run.train_batch), set by build_module
        self.train_batch: TrainBatch | None = None
        self._task_epoch = -1  # the epoch the task's epoch hook last ran for
        self._resumed_loss_sums: dict[str, Any] | None = None  # from a checkpoint, until used
        # trainer.channels_last: 4-D inputs converted on their way into the model
        self.input_layout = None
        if ((config or {}).get("trainer") or {}).get("channels_last"):
            from litrain.core.layout import InputLayout

            self.input_layout = InputLayout(quiet=True)

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: Any, *args: Any, **kwargs: Any) -> TaskModule:  # type: ignore[override]
        """Lightning's, for every litrain checkpoint: a native-engine or .safetensors file is
        converted to the Lightning format in memory first."""
        if isinstance(checkpoint_path, str | Path):
            ckpt = read_any(checkpoint_path)
            if is_native(ckpt):
                buffer = io.BytesIO()
                torch.save(to_lightning(ckpt), buffer)
                buffer.seek(0)
                checkpoint_path = buffer
        return super().load_from_checkpoint(checkpoint_path, *args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning sets _current_fx_name before and after every hook it calls (~40 times per
        # training step); nn.Module.__setattr__ tests each value against parameters, buffers
        # and modules first, ~3 % of the digits MLP's epoch on CPU. A hook name is a plain str.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    @property
    def backbone(self) -> nn.Module:
        """The model without its classifier head (a view: no new weights, no new state-dict
        keys), for Lightning's BackboneFinetuning and the like."""
        return backbone_and_head(self.model)[0]

    @property
    def head(self) -> nn.Module:
        """The model's classifier head."""
        return backbone_and_head(self.model)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_layout is not None:  # here, not in a batch hook a DataModule may own
            x = self.input_layout.convert(x)
        return self.model(x)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = self.task.unpack(batch)
        inputs, targets = x, y
        if self.train_batch is not None:  # the metrics below keep the hard labels y
            inputs, targets = self.train_batch(x, y, self.current_epoch, batch_idx)
        outputs = self(inputs)
        loss = self.task.loss(outputs, targets)
        if self.train_metrics is not None:
            self._update_train_metrics(outputs, y)
        # What self.log("train/loss", on_step=True, on_epoch=True, prog_bar=True) gives, without
        # its cost on every step (a result entry and a device move per call, more than the
        # whole step of a small model): the epoch mean is a running sum on the device, and
        # the step value is logged only when the logger writes it or a progress bar shows it.
        self.train_loss_mean.update(loss, len(x))
        if self._shows_step_metrics():
            self.log("train/loss_step", loss, on_step=True, on_epoch=False, prog_bar=True, batch_size=len(x))
            self.log("train/loss", loss, on_step=True, on_epoch=False, logger=False, batch_size=len(x))
        return loss

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        # The epoch's first batch, not on_train_epoch_start, which Lightning skips when it
        # resumes inside an epoch (the epoch means would then be neither computed nor reset).
        if self._task_epoch != self.current_epoch:
            self._task_epoch = self.current_epoch
            self._register_epoch_means()
            start_epoch(self, self.task, self.task_values)

    def _register_epoch_means(self) -> None:
        """Registered once per epoch; Lightning computes them (and resets them) at the epoch's
        end, before any on_train_epoch_end hook reads the callback metrics."""
        self.log("train/loss_epoch", self.train_loss_mean, on_step=False, on_epoch=True, prog_bar=True)
        self.log("train/loss", self.train_loss_mean, on_step=False, on_epoch=True, logger=False)
        for name, metric in (self.train_metrics or {}).items():  # the same way: train/acc ...
            self.log(f"{name}_epoch", metric, on_step=False, on_epoch=True)
            self.log(name, metric, on_step=False, on_epoch=True, logger=False)

    # A mid-epoch checkpoint carries the epoch's running loss sums, so the resumed epoch's
    # train/loss is the uninterrupted one (the native engine's checkpoints do the same). They
    # are this process's sums, as the logged value is; the training metrics of
    # logging.train_metrics start over (their state is split across ranks).
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        mean = self.train_loss_mean
        checkpoint[TRAIN_LOSS_SUMS_KEY] = {
            "epoch": self.current_epoch,
            "total": mean.total.detach().cpu(),
            "count": mean.count.detach().cpu(),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._resumed_loss_sums = checkpoint.get(TRAIN_LOSS_SUMS_KEY)

    def on_train_start(self) -> None:
        # The loops are restored by now: the sums belong here only if the run resumes inside
        # the epoch they were saved in (an epoch-end checkpoint resumes at the next one).
        sums, self._resumed_loss_sums = self._resumed_loss_sums, None
        if sums is not None and sums["epoch"] == self.current_epoch:
            mean = self.train_loss_mean
            mean.total = sums["total"].to(mean.total)
            mean.count = sums["count"].to(mean.count)

    def _update_train_metrics(self, outputs: torch.Tensor, y: Any) -> None:
        """Accumulate this batch into the epoch's training metrics; on the steps the logger
        writes, also log the batch's own values (``train/acc_step``)."""
        assert self.train_metrics is not None
        preds = self.task.metric_inputs(outputs.detach())
        connector = getattr(self.trainer, "_logger_connector", None)
        if connector is not None and connector.should_update_logs:
            values = self.train_metrics(preds, y)  # the batch's values; the epoch's state grows too
            self.log_dict({f"{k}_step": v for k, v in values.items()}, on_step=True, on_epoch=False)
        else:
            self.train_metrics.update(preds, y)

    def _shows_step_metrics(self) -> bool:
        """Whether this batch's step metrics reach the logger or a progress bar."""
        trainer = self.trainer
        if trainer.progress_bar_callback is not None or trainer.fast_dev_run:
            return True
        connector = getattr(trainer, "_logger_connector", None)
        return connector is None or bool(connector.should_update_logs)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        # The lr actually used, after the scheduler: a float, so it costs no device sync. Only
        # on the steps the logger writes (every log_every_n_steps): self.log turns a float into
        # a tensor and a result entry, which on a small model costs more than the step itself.
        # And on the epoch's last batch, so the epoch's train/lr is its last step's (as in the
        # native engine), also for an epoch resumed after its last logged step.
        trainer = self.trainer
        log_step = trainer.global_step % trainer.log_every_n_steps == 0
        if log_step or trainer.should_stop or last_batch_of_epoch(trainer):
            self.log("train/lr", trainer.optimizers[0].param_groups[0]["lr"], on_step=True, on_epoch=False)

    def _eval_step(self, batch: Any, split: str) -> torch.Tensor:
        x, y = self.task.unpack(batch)
        logits = self(x)
        loss = self.task.loss(logits, y)
        metrics = self.val_metrics if split == "val" else self.test_metrics
        preds = self.task.metric_inputs(logits)
        metrics.update(preds, y)
        if split == "test" and self.test_artifacts is not None:
            self.test_artifacts.update(preds, y)
        mean = self.val_loss_mean if split == "val" else self.test_loss_mean
        mean.update(loss.detach(), weight=len(x))  # logged once per epoch (below)
        return logits

    def on_validation_epoch_start(self) -> None:
        # As train/loss: the metric object is registered once and Lightning computes (and
        # resets) it at the epoch's end; a self.log per batch cost ~0.7 ms each on CPU.
        self.log("val/loss", self.val_loss_mean, on_step=False, on_epoch=True, prog_bar=True)

    def on_test_epoch_start(self) -> None:
        self.log("test/loss", self.test_loss_mean, on_step=False, on_epoch=True)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        values = self.val_metrics.compute()
        if self.shown_metric in values:
            self.log(self.shown_metric, values.pop(self.shown_metric), prog_bar=True)
        self.log_dict(values)
        self.val_metrics.reset()

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self.log_dict(self.test_metrics.compute())
        self.test_metrics.reset()
        if self.test_artifacts is None:
            return
        values = self.test_artifacts.compute()
        self.test_artifacts.reset()
        if self.trainer.is_global_zero:
            self.task.write_artifacts("test", values, Path(self.trainer.default_root_dir))

    def predict_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x = self.task.unpack(batch)[0] if isinstance(batch, list | tuple) else batch
        return self.task.prediction(self(x))

    def configure_optimizers(self) -> Any:
        groups = None
        if self.run_config is not None:  # finetune / optim.no_decay: one group per block group
            groups = optimizer_groups(
                self.model, self.run_config.model_copy(update={"optim": self.optim_cfg})
            )
        optimizer = build_optimizer(self, self.optim_cfg, groups)
        if self.lr != "auto":
            for group in optimizer.param_groups:  # the LR finder may have changed self.lr
                group["lr"] = float(self.lr) * group.get("lr_scale", 1.0)
                group["initial_lr"] = group["lr"]
        # estimated_stepping_batches also sets up the train loader, so num_training_batches
        # is known after it.
        total = int(self.trainer.estimated_stepping_batches)
        steps_per_epoch = self._steps_per_epoch()
        specs = build_schedulers(optimizer, self.optim_cfg, steps_per_epoch, total)
        if not specs:
            return optimizer
        return [optimizer], [
            {"scheduler": s.scheduler, "interval": s.interval, "monitor": s.monitor}
            if s.monitor
            else {"scheduler": s.scheduler, "interval": s.interval}
            for s in specs
        ]

    def _steps_per_epoch(self) -> int:
        batches = self.trainer.num_training_batches
        if batches == float("inf"):
            return 1
        return -(-int(batches) // self.trainer.accumulate_grad_batches)
