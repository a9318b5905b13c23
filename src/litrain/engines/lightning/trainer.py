"""build_trainer: a Config -> L.Trainer with precision, devices, loggers and callbacks
resolved and checked before anything runs."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.profilers import PassThroughProfiler

from litrain.checkpoint.naming import checkpoint_filename
from litrain.config import Config, TrainerConfig
from litrain.core.hardware import (  # lightning-free: the native engine shares them
    check_available,
    check_devices,
    drop_useless_nvml_check,
    resolve_accelerator,
    resolve_precision,
)
from litrain.core.noise import filter_noise
from litrain.engines.lightning.callbacks.checkpoint import StoppingWithMessage, TopKAndLastCheckpoint
from litrain.engines.lightning.callbacks.history import HistoryCallback
from litrain.engines.lightning.launcher import watch_ranks
from litrain.engines.lightning.loggers import build_loggers
from litrain.engines.lightning.strategies import parallel_kwargs
from litrain.errors import ConfigError
from litrain.registry import import_object
from litrain.run.parts import resolve_monitor


def build_callbacks(cfg: Config, run_dir: Path, quiet: bool) -> list[L.Callback]:
    ck = cfg.checkpoint
    cbs: list[L.Callback] = [HistoryCallback(run_dir)]
    monitor = training_monitor(cfg)
    if monitor is not None:  # before the NaN guard, which reuses its gradient norms
        cbs.append(monitor)
    if cfg.trainer.ema.enabled:  # before the step checkpoints, so they save this step's EMA
        from litrain.engines.lightning.callbacks.ema import EMA

        cbs.append(EMA(cfg.trainer.ema))
    # fast_dev_run promises no checkpoints, but Lightning's ModelCheckpoint still writes
    # last.ckpt in on_train_end: leave it out altogether.
    if not cfg.trainer.fast_dev_run:
        cbs.insert(
            0,
            TopKAndLastCheckpoint(
                dirpath=ck.dir or str(run_dir / "checkpoints"),
                filename=checkpoint_filename(ck.monitor, ck.filename),
                stage=cfg.run.name,  # {stage} outside a pipeline (a stage's config fills it in)
                monitor=ck.monitor,
                mode=ck.mode,
                save_top_k=ck.save_top_k if ck.monitor else 1,
                save_last=ck.save_last,
                every_n_epochs=ck.every_n_epochs,
                auto_insert_metric_name=False,
                # last.ckpt is shared with the mid-epoch/preemption saves, and a resumed run
                # rewrites the same names: replace in place (atomically), never "-v1" copies.
                enable_version_counter=False,
                quiet=quiet,
            ),
        )
        cbs.extend(reliability_callbacks(cfg, Path(ck.dir or run_dir / "checkpoints")))
        if monitor is not None:
            from litrain.engines.lightning.callbacks.nan_guard import NaNGuard

            for cb in cbs:
                if isinstance(cb, NaNGuard):
                    cb.monitor = monitor
        if ck.keep_every_n_epochs:
            from litrain.engines.lightning.callbacks.periodic import periodic_checkpoint

            cbs.insert(1, periodic_checkpoint(ck.dir or str(run_dir / "checkpoints"), ck.keep_every_n_epochs))
    if cfg.finetune.strategy != "none":  # after the NaN guard: it checks every gradient first
        from litrain.engines.lightning.callbacks.finetune import Finetuning

        cbs.append(Finetuning(quiet))
    if cfg.finetune.prune.enabled:
        from litrain.engines.lightning.callbacks.prune import Pruning

        cbs.append(Pruning(cfg.finetune.prune))
    es = cfg.early_stopping
    if es.enabled:
        cbs.append(
            StoppingWithMessage(
                monitor=es.monitor, mode=es.mode, patience=es.patience, min_delta=es.min_delta, quiet=quiet
            )
        )
    if not quiet:  # the live view both engines share, readable at 80 columns
        from litrain.engines.lightning.callbacks.progress import LiveProgress, ModelTable

        cbs.extend([LiveProgress(), ModelTable()])
    for spec in cfg.trainer.callbacks:
        if spec.class_path.rsplit(".", 1)[-1].rsplit(":", 1)[-1] == "BatchSizeFinder":
            # it resizes the loaders behind litrain's back (and breaks on its datamodule)
            raise ConfigError(
                f"trainer.callbacks {spec.class_path}: litrain finds the batch size itself: set "
                "data.batch_size=auto or run `litrain tune batch-size` (docs/training.md), and drop this callback"
            )
        cls = import_object(spec.class_path)
        try:
            cbs.append(cls(**spec.init_args))
        except TypeError as exc:
            raise ConfigError(f"trainer.callbacks {spec.class_path}: {exc}") from None
    return cbs


def training_monitor(cfg: Config) -> L.Callback | None:
    """logging.grad_norm/memory/throughput and trainer.memory_cleanup_interval, or None."""
    lg, t = cfg.logging, cfg.trainer
    if not (lg.grad_norm or lg.memory or lg.throughput or t.memory_cleanup_interval):
        return None
    from litrain.engines.lightning.callbacks.monitoring import TrainingMonitor

    return TrainingMonitor(lg.grad_norm, lg.memory, lg.throughput, t.memory_cleanup_interval)


def reliability_callbacks(cfg: Config, ckpt_dir: Path) -> list[L.Callback]:
    """RNG state in checkpoints, mid-epoch saves, preemption, NaN guard and OOM recovery
    (docs/reliability.md)."""
    from litrain.engines.lightning.callbacks.ctrl_c import LostInterrupt
    from litrain.engines.lightning.callbacks.nan_guard import NaNGuard
    from litrain.engines.lightning.callbacks.oom import OOMRecovery
    from litrain.engines.lightning.callbacks.preemption import PreemptionCallback
    from litrain.engines.lightning.callbacks.resume import ResumeState, StepCheckpoint

    t = cfg.trainer
    cbs: list[L.Callback] = [ResumeState(), NaNGuard(t.nan_policy, ckpt_dir, t.nan_lr_factor)]
    cbs.append(LostInterrupt())  # a first Ctrl-C whose exception was swallowed
    if cfg.checkpoint.every_n_steps:
        cbs.append(StepCheckpoint(ckpt_dir, cfg.checkpoint.every_n_steps))
    if t.preemption_signals:
        cbs.append(PreemptionCallback(ckpt_dir, t.preemption_signals))
    if t.oom_recovery:
        cbs.append(OOMRecovery())
    return cbs


_NO_PROFILING = contextlib.nullcontext()


class NoProfiler(PassThroughProfiler):
    """Lightning's no-op profiler without its cost: Lightning enters ``profiler.profile(...)``
    around every hook of every callback (~60 times per training step here), and the stock
    no-op is a generator-based context manager built anew each time. One shared
    ``nullcontext`` does the same nothing (~1 ms per epoch of the digits MLP on CPU)."""

    def profile(self, action_name: str) -> contextlib.AbstractContextManager[Any]:
        return _NO_PROFILING


def build_profiler(kind: str | None, run_dir: Path) -> Any:
    if kind is None:
        return NoProfiler()
    from lightning.pytorch import profilers

    cls = {
        "simple": profilers.SimpleProfiler,
        "advanced": profilers.AdvancedProfiler,
        "pytorch": profilers.PyTorchProfiler,
    }[kind]
    return cls(dirpath=str(run_dir / "profiler"), filename="profile")


def trainer_kwargs(t: TrainerConfig) -> dict[str, Any]:
    """The Trainer arguments that map one-to-one from config."""
    kw: dict[str, Any] = {
        "max_epochs": t.max_epochs,
        "max_steps": t.max_steps,
        "max_time": t.max_time,
        "num_nodes": t.num_nodes,
        "strategy": t.strategy,
        "accumulate_grad_batches": t.accumulate_grad_batches,
        "gradient_clip_val": t.gradient_clip_val,
        "gradient_clip_algorithm": t.gradient_clip_algorithm if t.gradient_clip_val else None,
        "log_every_n_steps": t.log_every_n_steps,
        "fast_dev_run": t.fast_dev_run,
    }
    for name in ("limit_train_batches", "limit_val_batches", "limit_test_batches", "val_check_interval"):
        value = getattr(t, name)
        if value is not None:
            kw[name] = value
    return kw


def build_trainer(cfg: Config, run_dir: Path, quiet: bool = False, **overrides: Any) -> L.Trainer:
    # build_parts made checkpoint.monitor concrete; a config straight from the user (no task
    # built) gets the default a run without a litrain task has
    cfg = resolve_monitor(cfg, None)
    t = cfg.trainer
    drop_useless_nvml_check()  # ~0.1 ms per optimizer step where there is no NVIDIA driver
    accelerator = resolve_accelerator(t.accelerator)
    precision = resolve_precision(t.precision, accelerator)
    check_available(accelerator)  # devices=auto too
    check_devices(accelerator, t.devices)
    filter_noise(quiet)  # before the Trainer: it warns while it is built (the srun hint)
    kw = trainer_kwargs(t)
    kw.update(
        accelerator=accelerator,
        precision=precision,
        deterministic=cfg.run.deterministic,
        default_root_dir=str(run_dir),
        logger=build_loggers(cfg, run_dir) or False,
        callbacks=build_callbacks(cfg, run_dir, quiet),
        profiler=build_profiler(t.profiler, run_dir),
        enable_progress_bar=not quiet,
        enable_model_summary=not quiet,
    )
    # devices, num_nodes (from torchrun/srun when they launched us), strategy, batch-norm sync
    kw.update(parallel_kwargs(cfg, accelerator))
    from litrain.engines.lightning.checkpoint_io import (
        AtomicCheckpointIO,  # FSDP full state too; shards: fsdp_checkpoint
    )

    kw["plugins"] = [*kw.get("plugins", []), AtomicCheckpointIO()]
    kw.update(overrides)
    trainer = L.Trainer(**kw)
    watch_ranks(trainer, t.ddp_timeout)  # --devices N: a dead rank ends the run at once, by name
    return trainer
