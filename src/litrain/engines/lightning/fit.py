"""``run.engine: lightning``: the parts wrapped in TaskModule and trained by L.Trainer. The
steps around the loop (run dir, seed, parts, config.yaml, summary.json) are the shared
lifecycle's (litrain.run.lifecycle)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from litrain.checkpoint.convert import as_lightning_file
from litrain.checkpoint.load import load_checkpoint
from litrain.checkpoint.weights import check_fits
from litrain.config import Config
from litrain.core.hardware import resolve_accelerator
from litrain.core.heap import keep_freed_heap
from litrain.engines.lightning.callbacks.checkpoint import StoppingWithMessage
from litrain.engines.lightning.loaders import trainer_loaders
from litrain.engines.lightning.module import build_module
from litrain.engines.lightning.trainer import build_trainer
from litrain.run.lifecycle import Engine
from litrain.run.monitors import check_monitors
from litrain.run.parts import Parts
from litrain.run.result import FitOutcome, stop_fields


class LightningEngine(Engine):
    name = "lightning"

    def setup(self, parts: Parts, run_dir: Path, quiet: bool) -> None:
        from litrain.launch.environment import wants_fsdp

        cfg = parts.config
        keep_freed_heap()  # a step reuses the pages the last one freed (core/heap.py)
        module = build_module(parts)
        if wants_fsdp(cfg.trainer) and resolve_accelerator(cfg.trainer.accelerator) == "cpu":
            from litrain.engines.lightning.fsdp import as_fsdp2_module

            module = as_fsdp2_module(module, cfg.trainer)
        if cfg.trainer.channels_last:  # before compile, which then traces channels_last kernels
            from litrain.core.layout import model_to_channels_last

            converted = model_to_channels_last(getattr(module, "model", module), quiet)
            layout = getattr(module, "input_layout", None)
            if layout is not None:
                layout.quiet = quiet
                if not converted:  # inputs only for a conv net: an MLP gains nothing from NHWC
                    module.input_layout = None
        if cfg.trainer.compile and hasattr(module, "model"):
            # in place (checkpoint keys unchanged), with the eager fallback the native engine
            # uses: a failing compiler costs one warning, not the run
            from litrain.core.compile import compile_model

            t = cfg.trainer
            compile_model(module.model, True, t.compile_mode, t.compile_dynamic)
        self.parts, self.module = parts, module
        check_monitors(cfg, parts.task, parts.datamodule)  # before training, not after an epoch
        self.trainer = build_trainer(cfg, run_dir, quiet)
        if self.trial is not None:  # a sweep trial: its report after each validation epoch
            from litrain.engines.lightning.callbacks.trial import TrialReport

            self.trainer.callbacks.append(TrialReport(self.trial, quiet))
        if self.trainer.world_size == 1 and hasattr(parts.datamodule, "loader_device"):
            parts.datamodule.loader_device = self.trainer.strategy.root_device  # in-memory batches there
        self.ckpt_path: Path | None = None

    def resume(self, checkpoint: Path) -> None:
        if (checkpoint / ".metadata").is_file():  # FSDP shards: the strategy loads them
            self.ckpt_path = checkpoint
            return
        # a native checkpoint resumes here too, as the Lightning file it converts to
        self.ckpt_path = as_lightning_file(checkpoint, Path(tempfile.mkdtemp(prefix="litrain-resume-")))
        check_fits(load_checkpoint(self.ckpt_path), self.module, self.ckpt_path)

    def before_fit(self, cfg: Config, run_dir: Path, resuming: bool) -> Config:
        if cfg.optim.lr != "auto" or self.ckpt_path:
            return cfg
        from litrain.engines.lightning.lr_finder import find_lr

        lr = find_lr(self.trainer, self.module, self.parts.datamodule, run_dir)
        self.module.lr = lr
        return cfg.model_copy(update={"optim": cfg.optim.model_copy(update={"lr": lr})})

    def position(self) -> tuple[int, str]:
        t = self.trainer
        return t.current_epoch, "validation" if t.validating or t.sanity_checking else "training"

    def fit(self) -> FitOutcome:
        from litrain.data.resumable import make_resumable
        from litrain.run.report import epoch_metrics

        trainer = self.trainer
        loaders = trainer_loaders(self.parts.datamodule, "fit", trainer)
        if "train_dataloaders" in loaders:  # mid-epoch resume needs the loader's position
            loaders["train_dataloaders"] = make_resumable(loaders["train_dataloaders"])
        trainer.fit(self.module, ckpt_path=self.ckpt_path, weights_only=True, **loaders)
        ck = trainer.checkpoint_callback
        score: Any = ck.best_model_score if ck else None
        return FitOutcome(
            metrics=epoch_metrics(trainer.callback_metrics),
            best_metric=float(score) if score is not None else None,
            best_checkpoint=ck.best_model_path if ck and ck.best_model_path else None,
            last_checkpoint=ck.last_model_path if ck and ck.last_model_path else None,
            epochs=trainer.current_epoch,
            steps=trainer.global_step,
            extra=stop_fields(*self._stopped(trainer)),
        )

    @staticmethod
    def _stopped(trainer: Any) -> tuple[bool, str]:
        for cb in trainer.callbacks:
            if isinstance(cb, StoppingWithMessage) and cb.stop_reason:
                return True, cb.stop_reason
            if type(cb).__name__ == "TrialReport" and cb.stop_reason:  # pruned by the sweep
                return True, cb.stop_reason
        timer = next((cb for cb in trainer.callbacks if type(cb).__name__ == "Timer"), None)
        if timer is not None and timer.time_remaining() is not None and timer.time_remaining() <= 0:
            return False, "max_time reached"
        return False, ""
