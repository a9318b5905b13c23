"""``run.engine: native``: train the same Config with a plain PyTorch loop.

Same run directory, same parts (``build_parts``: DataModule, model, task; ``optim``:
optimizer and schedules), same files out (config.yaml, checkpoints/, logs/metrics.csv,
history.json, plots/, summary.json). Only the loop differs: ``litrain.engines.native.loop``.
Lightning is never imported on this path.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from litrain.config import Config
from litrain.core.rng import seed_everything
from litrain.core.versions import versions
from litrain.errors import ConfigError

if TYPE_CHECKING:
    from litrain.api import RunResult


def check_supported(cfg: Config) -> None:
    """Refuse, with what to do instead, what only the Lightning engine provides."""
    t, why = cfg.trainer, []
    from litrain.launch.environment import detect_launch, wants_fsdp

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
    if cfg.logging.tensorboard or cfg.logging.wandb.enabled:
        why.append("logging.tensorboard / logging.wandb (the native engine writes the CSV log)")
    if why:
        raise ConfigError(
            "run.engine=native does not support " + "; ".join(why) + ": use run.engine=lightning"
        )


def resolve_device(cfg: Config) -> tuple[torch.device, str]:
    from litrain.core.hardware import resolve_accelerator, resolve_precision

    accel = resolve_accelerator(cfg.trainer.accelerator)
    if accel == "gpu":
        raise ConfigError("trainer.accelerator=gpu but no CUDA GPU is visible: use --accelerator cpu")
    if accel not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"trainer.accelerator={accel}: the native engine runs on cpu, cuda or mps")
    return torch.device(accel), resolve_precision(cfg.trainer.precision, accel)


def fit_native(
    cfg: Config,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
) -> RunResult:
    """Train ``cfg`` with the native loop; the API's ``fit`` calls this for engine native."""
    from litrain.api import RunResult, preempted_result
    from litrain.checkpoint.convert import check_resumable_in, to_native
    from litrain.checkpoint.load import check_fits, load_checkpoint
    from litrain.core.hardware import resolve_accelerator
    from litrain.engines.native.ddp import device_for_rank, make_trainer
    from litrain.launch.environment import agree_run_dir, is_global_zero
    from litrain.reliability.preemption import Preempted
    from litrain.run.parts import build_parts
    from litrain.run.report import write_json
    from litrain.run.rundir import choose_run_dir, resolve_checkpoint

    # under torchrun: rank 0 chooses the run dir, the process group opens here
    out_dir = agree_run_dir(
        lambda: choose_run_dir(cfg, run_dir, resume, overwrite),
        cfg,
        resolve_accelerator(cfg.trainer.accelerator),
    )
    check_supported(cfg)
    device, precision = resolve_device(cfg)
    device = device_for_rank(device)
    seed_everything(cfg.run.seed)
    if cfg.run.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    parts = build_parts(cfg)
    cfg = parts.config
    if parts.task is None or not isinstance(parts.model, torch.nn.Module) or _is_lightning(parts.model):
        raise ConfigError(
            "run.engine=native trains litrain tasks on an nn.Module; a LightningModule or "
            "LightningDataModule from class_path needs run.engine=lightning"
        )
    trainer = make_trainer(cfg, parts.model, parts.task, parts.datamodule, out_dir, device, precision, quiet)
    if resume:
        path = resolve_checkpoint(resume, cfg, out_dir)
        raw = load_checkpoint(path)
        check_resumable_in(raw, "native", path)
        ckpt = to_native(raw)
        check_fits(ckpt, trainer.model, path)
        trainer.load_checkpoint(ckpt)
    if is_global_zero():
        from litrain.checkpoint.store import clean_stale_temps

        cfg.save(out_dir / "config.yaml")
        clean_stale_temps(trainer.keeper.dir)  # left by a run killed mid-write
    start = time.perf_counter()
    try:
        state = trainer.fit()
    except Preempted as stop:
        return preempted_result(stop, out_dir, cfg)
    wall = time.perf_counter() - start
    metrics = state.metrics
    summary_path = out_dir / "summary.json"
    if not metrics and summary_path.is_file():  # resumed a finished run: nothing new ran
        metrics = json.loads(summary_path.read_text()).get("metrics", {})
    keeper = trainer.keeper
    best = keeper.best_path if keeper.best_path and Path(keeper.best_path).is_file() else None
    last = keeper.last_path or None
    score = keeper.best_score if cfg.checkpoint.monitor else None
    summary = {
        "engine": "native",
        "metrics": metrics,
        "best_metric": score,
        "monitor": cfg.checkpoint.monitor,
        "best_checkpoint": best,
        "last_checkpoint": last,
        "epochs": state.epoch,
        "steps": state.global_step,
        "wall_time_s": round(wall, 3),
        "versions": versions(),
    }
    if state.stop_reason:
        summary["stopped"] = state.stop_reason
    if is_global_zero():
        write_json(summary_path, summary)
    return RunResult(metrics, out_dir, cfg, best, last, summary)


def _is_lightning(model: Any) -> bool:
    """A LightningModule without importing Lightning: it is in sys.modules if one exists."""
    import sys

    lightning = sys.modules.get("lightning")
    return lightning is not None and isinstance(model, lightning.LightningModule)
