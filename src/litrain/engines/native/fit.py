"""``run.engine: native``: train the same Config with a plain PyTorch loop.

Same run directory, same parts (``build_parts``: DataModule, model, task; ``optim``:
optimizer and schedules), same files out (config.yaml, checkpoints/, logs/metrics.csv,
history.json, plots/, summary.json). Only the loop differs: ``litrain.engines.native.loop``.
Lightning is never imported on this path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch

from litrain.checkpoint.convert import check_resumable_in, to_native
from litrain.checkpoint.load import load_checkpoint
from litrain.checkpoint.weights import check_fits
from litrain.config import Config
from litrain.core.hardware import check_available, resolve_accelerator, resolve_precision
from litrain.core.heap import keep_freed_heap
from litrain.engines.native.ddp import device_for_rank, make_trainer
from litrain.errors import ConfigError
from litrain.launch.environment import detect_launch, wants_fsdp
from litrain.run.lifecycle import Engine
from litrain.run.parts import Parts
from litrain.run.result import FitOutcome, stop_fields


def check_supported(cfg: Config) -> None:
    """Refuse, with what to do instead, what only the Lightning engine provides."""
    t, why = cfg.trainer, []
    if detect_launch().external:  # torchrun/srun started the processes: DDP (native_ddp.py)
        if t.strategy not in ("auto", "ddp") or wants_fsdp(t) or t.sync_batchnorm:
            why.append("strategies other than ddp, and sync_batchnorm, under torchrun")
        if t.oom_recovery:  # each micro-batch would need its own gradient all-reduce
            why.append("trainer.oom_recovery under torchrun (it works on one device)")
    elif t.devices not in ("auto", 1) or t.num_nodes != 1 or t.strategy not in ("auto", "single_device"):
        why.append("multi-device training without torchrun (trainer.devices/num_nodes/strategy)")
    if t.profiler:
        why.append(f"trainer.profiler={t.profiler}")
    if t.callbacks:
        why.append("trainer.callbacks (Lightning callbacks)")
    if t.val_check_interval not in (None, 1.0):
        why.append("trainer.val_check_interval (validation inside an epoch)")
    if cfg.optim.lr == "auto":
        why.append("optim.lr=auto (the LR finder; run `litrain tune lr` first)")
    if why:
        raise ConfigError(
            "run.engine=native does not support " + "; ".join(why) + ": use run.engine=lightning"
        )


def resolve_device(cfg: Config) -> tuple[torch.device, str]:
    accel = resolve_accelerator(cfg.trainer.accelerator)
    check_available(accel)
    if accel not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"trainer.accelerator={accel}: the native engine runs on cpu, cuda or mps")
    return torch.device(accel), resolve_precision(cfg.trainer.precision, accel)


class NativeEngine(Engine):
    name = "native"

    def prepare(self, cfg: Config) -> None:
        check_supported(cfg)
        device, self.precision = resolve_device(cfg)
        self.device = device_for_rank(device)
        if cfg.run.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)

    def setup(self, parts: Parts, run_dir: Path, quiet: bool) -> None:
        if parts.task is None or not isinstance(parts.model, torch.nn.Module) or _is_lightning(parts.model):
            raise ConfigError(
                "run.engine=native trains litrain tasks on an nn.Module; a LightningModule or "
                "LightningDataModule from class_path needs run.engine=lightning"
            )
        self.monitor = parts.config.checkpoint.monitor
        keep_freed_heap()  # as the Lightning engine: steps reuse freed pages (core/heap.py)
        self.trainer = make_trainer(
            parts.config,
            parts.model,
            parts.task,
            parts.datamodule,
            run_dir,
            self.device,
            self.precision,
            quiet,
        )
        self.trainer.card = parts.card  # rides in every checkpoint's hparams
        self.trainer.trial = self.trial  # a sweep trial's report, told every validation epoch

    def resume(self, checkpoint: Path) -> None:
        raw = load_checkpoint(checkpoint)
        check_resumable_in(raw, "native", checkpoint)
        ckpt = to_native(raw)
        check_fits(ckpt, self.trainer.model, checkpoint)
        self.trainer.load_checkpoint(ckpt)

    def position(self) -> tuple[int, str]:
        return self.trainer.state.epoch, self.trainer.phase

    def fit(self) -> FitOutcome:
        log = self.trainer.csv  # TensorBoard/W&B files closed, the W&B run finished
        try:
            state = self.trainer.fit()
        except BaseException:
            if log is not None:
                log.close()  # checkpoints are logged on success only, as WandbLogger does
            raise
        if log is not None:
            log.close(_model_checkpoints(self.trainer.keeper))
        keeper = self.trainer.keeper
        return FitOutcome(
            metrics=state.metrics,
            best_metric=keeper.best_score if self.monitor else None,
            best_checkpoint=keeper.best_path
            if keeper.best_path and Path(keeper.best_path).is_file()
            else None,
            last_checkpoint=keeper.last_path or None,
            epochs=state.epoch,
            steps=state.global_step,
            extra=stop_fields(state.stopped_early, state.stop_reason),
        )


def _model_checkpoints(keeper: Any) -> list[tuple[str, list[str]]]:
    """What ``logging.wandb.log_model`` uploads: the best checkpoint and last.ckpt, with
    WandbLogger's aliases."""
    out: list[tuple[str, list[str]]] = []
    if keeper.best_path:
        out.append(
            (keeper.best_path, ["latest", "best"] if keeper.best_path != keeper.last_path else ["best"])
        )
    if keeper.last_path and keeper.last_path != keeper.best_path:
        out.append((keeper.last_path, ["latest"]))
    return out


def _is_lightning(model: Any) -> bool:
    """A LightningModule without importing Lightning: it is in sys.modules if one exists."""
    lightning = sys.modules.get("lightning")
    return lightning is not None and isinstance(model, lightning.LightningModule)
