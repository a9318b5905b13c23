"""Checkpoints of the native loop: which to write and which to delete, with the rules of
Lightning's ModelCheckpoint (strict improvement, NaN ranks worst, ``-vN`` on a name clash,
``last.ckpt`` every epoch, top-k every ``every_n_epochs``).

File names come from :mod:`litrain.checkpoint.naming` (the same template as the Lightning
engine's), the format from :mod:`litrain.checkpoint.formats.native`, and every write and
deletion goes through the atomic store (:mod:`litrain.checkpoint.store`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from litrain.checkpoint.naming import LAST_NAME, SUFFIX, checkpoint_filename, format_name, periodic_filename
from litrain.checkpoint.store import remove_checkpoint
from litrain.config import CheckpointConfig
from litrain.errors import ConfigError


class CheckpointKeeper:
    """Decides which checkpoints to write and which to delete; ``save`` writes one."""

    def __init__(self, cfg: CheckpointConfig, dirpath: Path, stage: str = "") -> None:
        self.dir = dirpath
        self.stage = stage  # {stage} in checkpoint.filename (the run name outside a pipeline)
        self.monitor, self.mode = cfg.monitor, cfg.mode
        self.top_k = cfg.save_top_k if cfg.monitor else 1
        self.save_last, self.every_n = cfg.save_last, cfg.every_n_epochs
        self.template = checkpoint_filename(cfg.monitor, cfg.filename)
        self.best_k: dict[str, float] = {}
        self.best_path = ""
        self.last_path = ""
        self.keep_every = cfg.keep_every_n_epochs  # epoch=NN-periodic.ckpt, never pruned

    @property
    def best_score(self) -> float | None:
        return self.best_k.get(self.best_path)

    def _better(self, a: float, b: float) -> bool:
        return a < b if self.mode == "min" else a > b

    def _worst_path(self) -> str:
        pick = max if self.mode == "min" else min
        return pick(self.best_k, key=self.best_k.__getitem__)

    def _free_name(self, name: str, replacing: str | None) -> Path:
        path, version = self.dir / f"{name}{SUFFIX}", 0
        while path.exists() and str(path) != replacing and str(path) not in self.best_k:
            version += 1
            path = self.dir / f"{name}-v{version}{SUFFIX}"
        return path

    def on_epoch_end(self, epoch: int, step: int, metrics: dict[str, float], save: Any) -> None:
        """After validation: top-k (every ``every_n_epochs``), then ``last.ckpt``.
        ``save(path)`` writes the current state to ``path``."""
        if self.every_n >= 1 and (epoch + 1) % self.every_n == 0 and self.top_k != 0:
            self._save_top_k(epoch, step, metrics, save)
        if self.keep_every and (epoch + 1) % self.keep_every == 0:
            save(self.dir / f"{format_name(periodic_filename(), {'epoch': epoch})}{SUFFIX}")
        if self.save_last:
            path = self.dir / f"{LAST_NAME}{SUFFIX}"
            save(path)
            self.last_path = str(path)

    def _save_top_k(self, epoch: int, step: int, metrics: dict[str, float], save: Any) -> None:
        values: dict[str, Any] = {**metrics, "epoch": epoch, "step": step, "stage": self.stage}
        if not self.monitor:  # no monitor: keep the newest one only
            path = self._free_name(format_name(self.template, values), self.best_path or None)
            save(path)
            if self.best_path and self.best_path != str(path):
                remove_checkpoint(self.best_path)
            self.best_path = str(path)
            self.best_k = {str(path): float("nan")}
            return
        if self.monitor not in metrics:
            raise ConfigError(
                f"checkpoint.monitor={self.monitor} is not a logged metric; choose one of "
                f"{', '.join(sorted(metrics))} (or set checkpoint.monitor=null)"
            )
        score = metrics[self.monitor]
        if math.isnan(score):  # NaN never beats anything
            score = math.inf if self.mode == "min" else -math.inf
        full = self.top_k != -1 and len(self.best_k) >= self.top_k
        if full and not self._better(score, self.best_k[self._worst_path()]):
            return
        dropped = self._worst_path() if full else None
        if dropped is not None:
            del self.best_k[dropped]
        path = self._free_name(format_name(self.template, values), dropped)
        self.best_k[str(path)] = score
        pick = min if self.mode == "min" else max
        self.best_path = pick(self.best_k, key=self.best_k.__getitem__)
        save(path)
        if dropped is not None and dropped != str(path):
            remove_checkpoint(dropped)

    def state_dict(self) -> dict[str, Any]:
        return {"best_k": dict(self.best_k), "best_path": self.best_path, "last_path": self.last_path}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_k = {k: float(v) for k, v in state.get("best_k", {}).items()}
        self.best_path = state.get("best_path", "")
        self.last_path = state.get("last_path", "")
