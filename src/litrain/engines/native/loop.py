"""NativeTrainer: the plain-PyTorch training loop behind ``run.engine: native``.

It runs the same DataModule, model, task (loss and metrics) and optimizer/schedules as the
Lightning engine and reproduces Lightning's order of operations, so both engines compute
the same numbers:

- per batch: forward under the precision context, ``task.loss``; gradients are zeroed at
  the first batch of each accumulation window and the loss is divided by
  ``accumulate_grad_batches`` before backward; the optimizer steps when a window is full
  *or* the epoch's last batch arrives (a short final window still steps); gradients are
  clipped (after unscaling, for fp16) right before the step; step-interval schedules step
  after the optimizer; ``train/lr`` is read after that.
- per epoch: validation, then epoch-interval schedules (plateau on its monitor), early
  stopping, then checkpoints (top-k, last.ckpt), history.json and the CSV flush.
- before training: two validation batches as a sanity check, as Lightning does, which also
  keeps the global RNG stream in step with it when DataLoaders draw their base seed.

Reliability, as in the Lightning engine and with the same engine-neutral parts:
``trainer.nan_policy`` (:mod:`litrain.reliability.nonfinite`, checked just before each optimizer step),
``trainer.oom_recovery`` (:mod:`litrain.reliability.oom`), ``trainer.preemption_signals``
(:mod:`litrain.reliability.preemption`: a checkpoint at the next step boundary, then ``Preempted``) and
``checkpoint.every_n_steps`` (``last.ckpt`` mid-epoch). A mid-epoch checkpoint holds the
position in the epoch (batches done, the epoch's running loss, the train loader's state) and
every checkpoint the RNG states, which are put back just before the first resumed batch, as
the Lightning engine does; so a run killed at any step resumes to the same weights.

``trainer.ema`` (:mod:`litrain.core.ema`, the update Lightning's EMA callback runs too): the EMA
is updated first thing in ``after_step`` (so a checkpoint of that step holds it) and the
epoch's validation runs on it with ``use_for_eval``; checkpoints add ``ema_state_dict``.

Hook points for extensions: ``training_step`` (the per-batch body), ``after_step`` (after
each optimizer step), ``end_epoch`` (all per-epoch work after the batches) and
``save_checkpoint`` (writing one checkpoint).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from litrain.checkpoint.formats.keys import EMA_META_KEY, EMA_STATE_KEY, ema_meta, saved_updates
from litrain.checkpoint.formats.native import NATIVE_FORMAT
from litrain.checkpoint.store import atomic_save
from litrain.checkpoint.weights import wants_ema
from litrain.config import Config
from litrain.core.compile import compile_model
from litrain.core.ema import EmaSchedule, EmaWeights
from litrain.core.finite import all_finite
from litrain.core.gradnorm import GradNorms
from litrain.core.layout import InputLayout, model_to_channels_last
from litrain.core.memory import cleanup_due, memory_metrics, release_memory
from litrain.core.noise import filter_noise, note
from litrain.core.rng import collect_rng_states, set_rng_states
from litrain.core.throughput import Throughput
from litrain.data.resumable import make_resumable
from litrain.engines.native.checkpoints import CheckpointKeeper
from litrain.engines.native.csvlog import open_metric_log
from litrain.engines.native.position import EpochState, restore_position, save_position
from litrain.engines.native.precision import Precision
from litrain.engines.native.stopping import EarlyStopper, parse_max_time
from litrain.launch.environment import is_global_zero
from litrain.optim.optimizers import build_optimizer
from litrain.optim.schedulers import build_schedulers
from litrain.reliability.interrupt import raise_if_lost
from litrain.reliability.nonfinite import NonFinitePolicy
from litrain.reliability.oom import MicroBatches, add_gradients
from litrain.reliability.preemption import PreemptionHandler, agree, announce
from litrain.run.finetune import freeze_policy, optimizer_groups, pruner
from litrain.run.monitors import check_monitors, monitor_fallback_line, stop_line
from litrain.run.progress import EpochProgress
from litrain.run.report import plot_history, write_json
from litrain.run.rundir import checkpoint_dir
from litrain.run.train_batch import build_train_batch
from litrain.run.trial import EpochReport
from litrain.tasks.base import Task


def limit_batches(available: int, limit: int | float | None, what: str) -> int:
    """Lightning's ``limit_*_batches``: an int caps the count, a float takes a fraction."""
    if limit is None:
        return available
    if isinstance(limit, int):
        return min(available, limit)
    n = int(available * limit)
    if n == 0 and limit > 0 and available > 0:
        from litrain.errors import ConfigError

        raise ConfigError(f"trainer.{what}={limit} of {available} batches is 0 batches: raise it")
    return n


@dataclass
class FitState:
    epoch: int = 0  # the epoch being (or about to be) trained, 0-based
    global_step: int = 0  # optimizer steps taken
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    should_stop: bool = False
    stop_reason: str = ""
    stopped_early: bool = False


class NativeTrainer:
    phase = "training"  # or "validation": where a Ctrl-C stopped the loop

    def __init__(
        self,
        cfg: Config,
        model: nn.Module,
        task: Task,
        datamodule: Any,
        run_dir: Path,
        device: torch.device,
        precision: str,
        quiet: bool = True,
    ) -> None:
        t = cfg.trainer
        self.cfg, self.task, self.run_dir, self.device, self.quiet = cfg, task, run_dir, device, quiet
        self.card: dict[str, Any] | None = None  # the model card (litrain.run.card), set by the engine
        filter_noise(quiet)
        self.fast_dev_run = t.fast_dev_run
        self.accumulate = t.accumulate_grad_batches
        self.max_epochs = 1 if t.fast_dev_run else t.max_epochs
        self.max_steps = 1 if t.fast_dev_run else t.max_steps
        self.max_time = parse_max_time(t.max_time)
        self.log_every = t.log_every_n_steps
        self.precision = Precision(precision, device)
        self.model = self.precision.convert_module(model.to(device))
        # trainer.channels_last: before compile, as in the Lightning engine
        self.input_layout = None
        if t.channels_last and model_to_channels_last(self.model, quiet):  # inputs only for convs
            self.input_layout = InputLayout(quiet)
        # in place, with the eager fallback inside the module (the Lightning engine's too)
        compile_model(self.model, t.compile, t.compile_mode, t.compile_dynamic)
        self.forward = self.model

        if hasattr(datamodule, "loader_device"):  # in-memory batches are sliced on the device
            datamodule.loader_device = device
        self.train_loader = make_resumable(datamodule.train_dataloader())
        self.val_loader = datamodule.val_dataloader()
        first = 1 if t.fast_dev_run else None
        self.train_batches = limit_batches(
            len(self.train_loader), first or t.limit_train_batches, "limit_train_batches"
        )
        self.val_batches = limit_batches(
            len(self.val_loader), first or t.limit_val_batches, "limit_val_batches"
        )
        self.steps_per_epoch = -(-self.train_batches // self.accumulate)

        # finetune: param groups per block group, and the policy that freezes some of them
        self.optimizer = build_optimizer(self.model, cfg.optim, optimizer_groups(self.model, cfg))
        self.finetune = freeze_policy(self.model, cfg)
        if self.finetune is not None:
            self.finetune.attach(self.optimizer)
        self.pruner = pruner(self.model, cfg)  # finetune.prune: masks kept after every step
        if self.pruner is not None:
            self.pruner.attach(self.optimizer)
        self.schedules = build_schedulers(self.optimizer, cfg.optim, self.steps_per_epoch, self.total_steps())
        self.val_metrics = task.metrics("val/").to(device)
        # logging.train_metrics: the task's metrics on the training batches too
        self.train_metrics = task.metrics("train/").to(device) if cfg.logging.train_metrics else None
        self._outputs: torch.Tensor | None = None  # the batch's model outputs, for them
        # device batch augmentation and mixup, as the Lightning engine's training_step does
        self.train_batch = build_train_batch(cfg, datamodule, task)
        self.keeper = CheckpointKeeper(cfg.checkpoint, self._checkpoint_dir(), cfg.run.name)
        self.stopper = EarlyStopper(cfg.early_stopping) if cfg.early_stopping.enabled else None
        check_monitors(cfg, task, datamodule)  # a metric this run never logs: refuse now
        # CSV, TensorBoard and W&B behind one log() (csvlog.MetricLog); None: no logger
        self.csv = open_metric_log(cfg, run_dir)
        self.state = FitState()
        self.started = 0.0
        self.params = list(self.model.parameters())
        # trainer.ema (core/ema.py): updated after each optimizer step, before any checkpoint
        e = t.ema
        self.ema = (
            EmaWeights(self.model, EmaSchedule(e.decay, e.warmup, e.update_every, e.start_step))
            if e.enabled
            else None
        )
        self.nonfinite = NonFinitePolicy(t.nan_policy, self._checkpoint_dir(), t.nan_lr_factor)
        self.micro = MicroBatches() if t.oom_recovery else None
        self.every_n_steps = cfg.checkpoint.every_n_steps
        self.preemption = PreemptionHandler(t.preemption_signals) if t.preemption_signals else None
        self._window_loss: torch.Tensor | None = None  # the accumulation window's loss sum
        self._step_loss: torch.Tensor = torch.zeros(())  # the last batch's, for the live view
        self.progress: EpochProgress | None = None
        self.monitor_shown = cfg.checkpoint.monitor or task.monitor
        self._resume_at: dict[str, Any] | None = None  # position inside the resumed epoch
        self._pending_rng: dict[str, Any] | None = None  # put back before the first batch
        # logging.grad_norm / memory / throughput, trainer.memory_cleanup_interval (core/)
        lg = cfg.logging
        self.grad_norms = GradNorms(self.model, lg.grad_norm) if lg.grad_norm else None
        self.throughput = Throughput() if lg.throughput else None
        self.log_memory, self.cleanup_interval = lg.memory, t.memory_cleanup_interval
        self._grad_norm_values: dict[str, float] = {}  # measured at this step, logged with it
        self.trial: EpochReport | None = None  # a sweep trial's report (run/trial.py)

    # ----------------------------------------------------------------- setup helpers
    def _checkpoint_dir(self) -> Path:
        return checkpoint_dir(self.cfg, self.run_dir)

    def total_steps(self) -> int:
        """Lightning's ``estimated_stepping_batches``, which sizes the schedules."""
        if self.max_epochs == -1:
            return self.max_steps if self.max_steps != -1 else 1
        total = self.steps_per_epoch * max(self.max_epochs, 1)
        return min(total, self.max_steps) if self.max_steps != -1 else total

    def _to_device(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.task.unpack(batch)
        if x.device != self.device:
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        if self.input_layout is not None:
            x = self.input_layout.convert(x)
        return self.precision.convert_input(x), y

    # ----------------------------------------------------------------- the loop
    def fit(self) -> FitState:
        self.started = time.perf_counter()
        st = self.state
        if st.epoch == 0 and st.global_step == 0 and not self.fast_dev_run:
            self.sanity_check()
        if self.preemption is not None:
            self.preemption.install()
        # the Lightning engine's live view (run.progress), on rank 0 and not with --quiet
        self.progress = None if self.quiet or not is_global_zero() else EpochProgress(self.max_epochs)
        try:
            while not self._done():
                self.train_epoch(st.epoch)
                self.end_epoch(st.epoch)
                st.epoch += 1
        finally:
            if self.preemption is not None:
                self.preemption.uninstall()
            if self.progress is not None:
                self.progress.close()
        if st.history:
            plot_history(st.history, self.run_dir / "plots")
        return st

    def _done(self) -> bool:
        st = self.state
        if st.should_stop:
            return True
        if self.max_steps != -1 and st.global_step >= self.max_steps:
            return True
        return self.max_epochs != -1 and st.epoch >= self.max_epochs

    def _out_of_time(self) -> bool:
        return self.max_time is not None and time.perf_counter() - self.started >= self.max_time

    def sanity_check(self, batches: int = 2) -> None:
        """Two validation batches before training (Lightning's num_sanity_val_steps): a broken
        validation step fails in seconds, not after the first epoch."""
        if self.val_batches == 0:
            return
        self.validate(limit=min(batches, self.val_batches))

    def train_epoch(self, epoch: int) -> None:
        self._set_epoch(self.train_loader, epoch)
        self.model.train()
        self.task.on_train_epoch_start(epoch)
        if self.finetune is not None:
            self._start_finetune_epoch(epoch)
        if self.pruner is not None:
            self.pruner.start_epoch(epoch)
        ep = EpochState(loss_sum=torch.zeros((), device=self.device))
        start, batches = 0, self.train_loader
        if self._resume_at is not None:  # inside the epoch a mid-epoch checkpoint left
            start, batches = restore_position(self._resume_at, ep, batches, self.train_batches)
            self._resume_at = None
        last = self.train_batches - 1
        if self.progress is not None:
            self.progress.start_epoch(epoch, self.train_batches)
        if self.throughput is not None:
            self.throughput.restart()
        for batch_idx, batch in enumerate(batches, start):
            raise_if_lost()
            if batch_idx > last:
                break
            if self._pending_rng is not None:  # after the batch is fetched, as Lightning does
                set_rng_states(self._pending_rng)
                self._pending_rng = None
            steps_before = self.state.global_step
            self.training_step(batch, batch_idx, batch_idx == last, ep)
            if self.state.global_step != steps_before:
                self.after_step(batch_idx + 1, ep)
            if self.progress is not None:  # the step loss is read only when the view refreshes
                self.progress.advance(batch_idx + 1, lambda: {"train/loss_step": float(self._step_loss)})
            if self.max_steps != -1 and self.state.global_step >= self.max_steps:
                break
            if self._out_of_time():
                self.state.should_stop, self.state.stop_reason = True, "max_time reached"
                break
        self.epoch_state = ep

    def _start_finetune_epoch(self, epoch: int) -> None:
        """The groups that train this epoch; frozen BatchNorm back in eval mode (train_bn)."""
        assert self.finetune is not None
        unfrozen = self.finetune.start_epoch(epoch)
        if unfrozen:
            note(f"finetune: epoch {epoch} unfreezes {', '.join(unfrozen)}", self.quiet)
        self.finetune.freeze_batchnorm()

    def training_step(self, batch: Any, batch_idx: int, is_last: bool, ep: EpochState) -> None:
        """One batch: forward, loss, backward; an optimizer step at the end of a window."""
        x, y = self._to_device(batch)
        inputs, targets = x, y
        if self.train_batch is not None:  # the metrics below keep the hard labels y
            inputs, targets = self.train_batch(x, y, self.state.epoch, batch_idx)
            if self.input_layout is not None:  # its crops come out contiguous (NCHW)
                inputs = self.input_layout.convert(inputs)
        if batch_idx % self.accumulate == 0:
            self.optimizer.zero_grad(set_to_none=True)
        if self.micro is None:
            loss = self._backward(inputs, targets)
        else:
            loss = self._backward_in_parts(inputs, targets)
        detached = loss.detach()
        self._step_loss = detached
        window = detached.float()  # for the finiteness check; a sum is enough for it
        self._window_loss = window if batch_idx % self.accumulate == 0 else self._window_loss + window
        stepped = (batch_idx + 1) % self.accumulate == 0 or is_last
        steps_before = self.state.global_step
        if stepped:
            self.optimizer_step()
            for spec in self.schedules:
                if spec.interval == "step":
                    spec.scheduler.step()  # type: ignore[call-arg]
        ep.loss_sum = ep.loss_sum + detached * len(x)
        ep.count += len(x)
        if self.throughput is not None:
            self.throughput.update(len(x))
        # float32, as Lightning logs it (it turns logged floats into float32 tensors)
        ep.lr = float(np.float32(self.optimizer.param_groups[0]["lr"]))
        # Lightning logs on batches that step the optimizer, when (steps so far + 1) is a
        # multiple of log_every_n_steps, under the step count before this step.
        logs_now = stepped and self.csv is not None and (steps_before + 1) % self.log_every == 0
        batch_metrics = self._update_train_metrics(y, logs_now)
        if logs_now:
            row = {"train/loss_step": float(detached), "train/lr": ep.lr, **batch_metrics}
            if self.nonfinite.skipped:
                row["train/skipped_steps"] = float(self.nonfinite.skipped)
            row.update(self._monitor_values())
            self.csv.log(row, self.state.epoch, steps_before)

    def _update_train_metrics(self, y: Any, batch_values: bool) -> dict[str, float]:
        """Accumulate the batch into the epoch's training metrics; with ``batch_values``
        return the batch's own values (``train/acc_step``), as the Lightning engine logs them."""
        if self.train_metrics is None or self._outputs is None:
            return {}
        preds = self.task.metric_inputs(self._outputs)
        self._outputs = None
        if not batch_values:
            self.train_metrics.update(preds, y)
            return {}
        return {f"{k}_step": float(v) for k, v in self.train_metrics(preds, y).items()}

    def _backward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with self.precision.forward_context():
            logits = self.forward(x)
        if self.train_metrics is not None:
            self._outputs = logits.detach()
        loss = self.task.loss(logits, y)
        scaled = loss / self.accumulate if self.accumulate > 1 else loss
        scaler = self.precision.scaler
        (scaler.scale(scaled) if scaler is not None else scaled).backward()
        return loss

    def _backward_in_parts(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """trainer.oom_recovery: the same gradients, in as many micro-batches as fit."""
        scaler = self.precision.scaler

        def loss_of(part: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
            with self.precision.forward_context():
                logits = self.forward(part[0])
            return self.task.loss(logits, part[1])

        def scale(loss: torch.Tensor) -> torch.Tensor:
            scaled = loss / self.accumulate
            return scaler.scale(scaled) if scaler is not None else scaled

        assert self.micro is not None
        trainable = [p for p in self.params if p.requires_grad]
        loss, grads = self.micro.gradients((x, y), loss_of, scale, trainable, self.state.global_step)
        add_gradients(grads)
        return loss

    def _monitor_values(self) -> dict[str, float]:
        """logging.grad_norm/memory/throughput values for the row being logged."""
        values, self._grad_norm_values = self._grad_norm_values, {}
        if self.log_memory:
            values.update(memory_metrics(self.device))
        if self.throughput is not None:
            rate = self.throughput.rate()
            if rate is not None:
                values["train/samples_per_sec"] = rate
        return values

    def _measure_grad_norms(self) -> tuple[list[torch.Tensor], torch.Tensor | None] | None:
        """logging.grad_norm on the steps the logger writes: the norms (fp16: with the loss
        scale divided out, as Lightning logs them after unscaling), before clipping."""
        if self.grad_norms is None or (self.state.global_step + 1) % self.log_every != 0:
            return None
        scaler = self.precision.scaler
        measured = self.grad_norms.measure(float(scaler.get_scale()) if scaler is not None else 1.0)
        self._grad_norm_values = dict(self.grad_norms.values)
        return measured

    def _step_is_finite(self, loss: torch.Tensor | None) -> bool:
        """One host read: the window's loss and every gradient's norm (fp16: the GradScaler
        already skips overflowing steps, so only the loss)."""
        measured = self._measure_grad_norms()
        if measured is not None and self.precision.scaler is None:  # the same norms, no extra pass
            return all_finite(measured[0], loss, measured[1])
        grads = (
            [] if self.precision.scaler is not None else [p.grad for p in self.params if p.grad is not None]
        )
        return all_finite(grads, loss)

    def _load_weights(self, path: Path) -> None:
        """Weights and optimizer state from a checkpoint of either engine (nan rollback)."""
        from litrain.checkpoint.convert import to_native
        from litrain.checkpoint.store import safe_load

        ckpt = to_native(safe_load(path))
        self.model.load_state_dict(ckpt["state_dict"])
        self._load_ema(ckpt)  # the average of the weights rolled back to, not of those after them
        self.optimizer.load_state_dict(ckpt["optimizer_states"][0])

    def _load_ema(self, ckpt: dict[str, Any]) -> None:
        if self.ema is not None and ckpt.get(EMA_STATE_KEY) is not None:
            self.ema.load_state_dict(ckpt[EMA_STATE_KEY], saved_updates(ckpt))
        elif self.ema is not None:  # no EMA saved: it starts from the weights at the next update
            self.ema.load_state_dict({}, 0)

    def optimizer_step(self) -> None:
        t, scaler = self.cfg.trainer, self.precision.scaler
        loss, self._window_loss = self._window_loss, None
        if not self._step_is_finite(loss):
            # skip / rollback drop the gradients and return; stop raises NonFiniteError
            self.nonfinite.handle(
                step=self.state.global_step,
                epoch=self.state.epoch,
                loss=loss,
                module=self.model,
                optimizer=self.optimizer,
                schedulers=[s.scheduler for s in self.schedules],
                save_debug=self.save_checkpoint,
                load_good=self._load_weights,
            )
            self.state.global_step += 1  # counted, as Lightning counts a step without gradients
            return
        if self.finetune is not None:  # after the finiteness check and before clipping, as in Lightning
            self.finetune.before_step(self.optimizer)
        if t.gradient_clip_val:
            if scaler is not None:
                scaler.unscale_(self.optimizer)
            params = [p for g in self.optimizer.param_groups for p in g["params"]]
            if t.gradient_clip_algorithm == "value":
                torch.nn.utils.clip_grad_value_(params, t.gradient_clip_val)
            else:
                torch.nn.utils.clip_grad_norm_(params, t.gradient_clip_val)
        if scaler is not None:
            scaler.step(self.optimizer)
            scaler.update()
        else:
            self.optimizer.step()
        self.state.global_step += 1

    @torch.inference_mode()
    def validate(self, limit: int | None = None) -> dict[str, float]:
        """Loss (batch-size weighted mean, as Lightning reduces it) and the task's metrics."""
        n = self.val_batches if limit is None else limit
        if n == 0:
            return {}
        self.phase = "validation"  # what a Ctrl-C reports (an exception leaves it: stopped there)
        self.model.eval()
        loss_sum, count = torch.zeros((), device=self.device), 0
        for batch_idx, batch in enumerate(self.val_loader):
            raise_if_lost()
            if batch_idx >= n:
                break
            x, y = self._to_device(batch)
            with self.precision.forward_context():
                logits = self.forward(x)
            loss = self.task.loss(logits, y)
            self.val_metrics.update(self.task.metric_inputs(logits), y)
            loss_sum = loss_sum + loss * len(x)
            count += len(x)
        loss_sum, count = self.reduce_sum(loss_sum, count)
        values = {k: float(v) for k, v in self.val_metrics.compute().items()}
        self.val_metrics.reset()
        self.model.train()
        self.phase = "training"
        return {"val/loss": float(loss_sum / count), **values}

    def _validate_for_epoch(self) -> dict[str, float]:
        """The epoch's validation: on the EMA weights with ``trainer.ema.use_for_eval``."""
        if self.ema is None or not wants_ema(self.cfg.trainer.ema, "eval"):
            return self.validate()
        with self.ema.in_model():
            return self.validate()

    def after_step(self, batches_done: int, ep: EpochState) -> None:
        """At an optimizer-step boundary: the periodic mid-epoch ``last.ckpt``, and the
        preemption checkpoint when a signal arrived (on any rank)."""
        step, last = self.state.global_step, self.keeper.dir / "last.ckpt"
        if self.ema is not None:
            self.ema.after_step(step - 1)
        if cleanup_due(step, self.cleanup_interval):
            release_memory(self.device)
        periodic = bool(self.every_n_steps) and step % self.every_n_steps == 0 and not self.fast_dev_run
        stop = self.preemption is not None and agree(self.preemption.requested(), self.device)
        if periodic or stop:
            self.save_checkpoint(last, (batches_done, ep))
            self.keeper.last_path = str(last)
        if stop:
            assert self.preemption is not None
            raise announce(last, step, self.preemption.received)

    def reduce_sum(self, total: torch.Tensor, count: int) -> tuple[torch.Tensor, int]:
        """(sum, count) over all processes; one process: unchanged (see litrain.engines.native.ddp)."""
        return total, count

    def end_epoch(self, epoch: int) -> None:
        """After the epoch's batches: validate, schedules, early stopping, checkpoints, logs."""
        st, ep = self.state, self.epoch_state
        val = self._validate_for_epoch() if self.val_batches else {}
        if self.csv is not None and val:
            self.csv.log(val, epoch, st.global_step - 1)
        train_loss = float(ep.loss_sum / ep.count) if ep.count else math.nan
        train = {}
        if self.train_metrics is not None:
            train = {k: float(v) for k, v in self.train_metrics.compute().items()}
            self.train_metrics.reset()
        task_values = self.task.epoch_values()
        if self.csv is not None:
            epoch_row = {"train/loss_epoch": train_loss, **{f"{k}_epoch": v for k, v in train.items()}}
            epoch_row.update(task_values)
            if self.finetune is not None:
                epoch_row["train/unfrozen_groups"] = float(self.finetune.unfrozen_count)
            if self.pruner is not None:
                epoch_row["train/sparsity"] = self.pruner.sparsity()
            self.csv.log(epoch_row, epoch, st.global_step - 1)
        metrics = {"train/loss": train_loss, "train/lr": ep.lr, **train, **task_values, **val}
        if self.pruner is not None:
            metrics["train/sparsity"] = self.pruner.sparsity()
        if self.finetune is not None:
            metrics["train/unfrozen_groups"] = float(self.finetune.unfrozen_count)
            # adaptive: decided now, before the checkpoints save the policy's state
            if val or not self.val_batches:
                picked = self.finetune.end_epoch(self._finetune_value(metrics))
                if picked:
                    note(
                        f"finetune: {self.cfg.finetune.monitor} stalled; {picked} unfreezes next epoch",
                        self.quiet,
                    )
        for spec in self.schedules:
            if spec.interval == "epoch":
                spec.scheduler.step(self._monitored(spec.monitor, metrics))  # type: ignore[arg-type]
        # with no validation data the monitor is a training metric, checked every epoch
        if (
            self.stopper is not None
            and (val or not self.val_batches)
            and self.stopper.should_stop(metrics, epoch)
        ):
            st.should_stop, st.stop_reason, st.stopped_early = True, self.stopper.reason, True
            note(stop_line(epoch, self.stopper.monitor, self.stopper.best, self.stopper.reason), self.quiet)
        if self.trial is not None and (val or not self.val_batches) and not st.should_stop:
            pruned = self.trial.report(epoch, metrics)  # a sweep trial: the search may stop it
            if pruned:
                st.should_stop, st.stop_reason, st.stopped_early = True, pruned, True
                note(pruned, self.quiet)
        st.metrics = metrics
        st.history = [r for r in st.history if r["epoch"] != epoch]
        st.history.append({"epoch": epoch, "step": st.global_step, **metrics})
        if not self.fast_dev_run:
            keeper = self.keeper
            if keeper.monitor and keeper.top_k != 0 and keeper.monitor not in metrics:
                note(monitor_fallback_line(keeper.monitor, metrics), self.quiet)
                keeper.top_k = 0  # last.ckpt only from here on, as in the Lightning engine
            keeper.on_epoch_end(epoch, st.global_step, metrics, self.save_checkpoint)
        write_json(self.run_dir / "history.json", st.history)
        if self.csv is not None:
            self.csv.flush()
        if self.progress is not None:
            shown = {"train/loss_epoch": train_loss, **val}
            if self.monitor_shown in shown:  # the progress bar's set: loss, val loss, the monitor
                shown = {k: v for k, v in shown.items() if "loss" in k or k == self.monitor_shown}
            self.progress.set_metrics(shown)

    def _finetune_value(self, metrics: dict[str, float]) -> float | None:
        """finetune.strategy=adaptive: the value of its monitor this epoch."""
        if self.cfg.finetune.strategy != "adaptive":
            return None
        monitor = self.cfg.finetune.monitor
        if monitor not in metrics:
            from litrain.errors import ConfigError

            raise ConfigError(
                f"finetune.monitor={monitor} is not a logged metric; choose one of {', '.join(sorted(metrics))}"
            )
        return metrics[monitor]

    def _monitored(self, monitor: str | None, metrics: dict[str, float]) -> float | None:
        if monitor is None:
            return None
        if monitor not in metrics:
            from litrain.errors import ConfigError

            raise ConfigError(
                f"optim.scheduler.monitor={monitor} is not a logged metric; choose one of "
                f"{', '.join(sorted(metrics))}"
            )
        return metrics[monitor]

    # ----------------------------------------------------------------- checkpoints
    def checkpoint_dict(self, position: tuple[int, EpochState] | None = None) -> dict[str, Any]:
        """The native checkpoint; ``position`` (batches done, running sums) for a mid-epoch one,
        whose ``epoch`` is then the epoch in progress."""
        st = self.state
        cfg = self.cfg.to_dict()
        where = save_position(*position, self.train_loader) if position is not None else None
        ema = (
            {}
            if self.ema is None
            else {EMA_STATE_KEY: self.ema.state_dict(), EMA_META_KEY: ema_meta(self.ema.updates)}
        )
        return {
            **ema,
            "format": NATIVE_FORMAT,
            "state_dict": self.model.state_dict(),
            "optimizer_states": [self.optimizer.state_dict()],
            "lr_schedulers": [s.scheduler.state_dict() for s in self.schedules],
            "scaler": self.precision.scaler.state_dict() if self.precision.scaler else None,
            "epoch": st.epoch,
            "global_step": st.global_step,
            "batches_per_epoch": self.train_batches,
            "hyper_parameters": {"config": cfg, **({"card": self.card} if self.card else {})},
            "native": {
                "checkpoints": self.keeper.state_dict(),
                "early_stopping": self.stopper.state_dict() if self.stopper else None,
                "history": st.history,
                "nonfinite": self.nonfinite.state_dict(),
                "micro_batches": self.micro.state_dict() if self.micro is not None else None,
                "rng": collect_rng_states(),
                "position": where,
                "finetune": self.finetune.state_dict() if self.finetune is not None else None,
            },
        }

    def save_checkpoint(self, path: Path, position: tuple[int, EpochState] | None = None) -> None:
        atomic_save(self.checkpoint_dict(position), path)  # temp, fsync, rename, sidecar

    def load_checkpoint(self, ckpt: dict[str, Any]) -> None:
        """Continue from a native checkpoint (``litrain.checkpoint.convert.to_native`` reads Lightning's)."""
        self.model.load_state_dict(ckpt["state_dict"])
        self._load_ema(ckpt)
        if ckpt.get("optimizer_states"):
            self.optimizer.load_state_dict(ckpt["optimizer_states"][0])
        for spec, state in zip(self.schedules, ckpt.get("lr_schedulers") or [], strict=False):
            spec.scheduler.load_state_dict(state)
        if self.precision.scaler is not None and ckpt.get("scaler"):
            self.precision.scaler.load_state_dict(ckpt["scaler"])
        native = ckpt.get("native") or {}
        self.keeper.load_state_dict(native.get("checkpoints") or {})
        if self.stopper is not None and native.get("early_stopping"):
            self.stopper.load_state_dict(native["early_stopping"])
        self.state.history = list(native.get("history") or [])
        if self.state.history:
            self.state.metrics = {k: v for k, v in self.state.history[-1].items() if "/" in k}
        self.nonfinite.load_state_dict(native.get("nonfinite") or {})
        if self.micro is not None:
            self.micro.load_state_dict(native.get("micro_batches") or {})
        if self.finetune is not None:
            self.finetune.load_state_dict(native.get("finetune") or {})
        self._pending_rng = native.get("rng")
        self._resume_at = native.get("position")
        # a mid-epoch checkpoint goes on in its epoch; an epoch-end one at the next epoch
        self.state.epoch = int(ckpt["epoch"]) + (0 if self._resume_at else 1)
        self.state.global_step = int(ckpt["global_step"])

    @staticmethod
    def _set_epoch(loader: Any, epoch: int) -> None:
        """What Lightning does for a loader: set_epoch on its sampler(s)."""
        for obj in (
            getattr(loader, "sampler", None),
            getattr(getattr(loader, "batch_sampler", None), "sampler", None),
        ):
            if obj is not None and callable(getattr(obj, "set_epoch", None)):
                obj.set_epoch(epoch)
