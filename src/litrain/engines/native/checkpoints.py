"""Checkpoints of the native loop: file names, top-k by monitor and ``last.ckpt``, with the
rules of Lightning's ModelCheckpoint (strict improvement, NaN ranks worst, ``-vN`` on a name
clash, ``last.ckpt`` every epoch, top-k every ``every_n_epochs``).

A native checkpoint is a plain dict that describes itself (nanoGPT-style):
``format``, ``state_dict`` (the bare model: no ``model.`` prefix), ``optimizer_states``,
``lr_schedulers``, ``scaler``, ``epoch`` (the last finished, 0-based), ``global_step``,
``batches_per_epoch``, ``hyper_parameters.config`` and ``native`` (top-k, early stopping
and history state). ``litrain convert`` turns it into a Lightning checkpoint and back.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from litrain.config import CheckpointConfig
from litrain.core.hardware import checkpoint_filename
from litrain.errors import ConfigError

NATIVE_FORMAT = "litrain.native/1"
_FIELD = re.compile(r"\{([^{}:]+)(:[^{}]*)?\}")


def format_name(template: str, values: dict[str, Any]) -> str:
    """``epoch={epoch:02d}-val_acc={val/acc:.4f}`` -> ``epoch=03-val_acc=0.9712`` (names with
    '/' are fine here, unlike ``str.format``)."""

    def sub(match: re.Match[str]) -> str:
        name, spec = match.group(1), (match.group(2) or ":")[1:]
        return format(values[name], spec)

    return _FIELD.sub(sub, template)


def write_checkpoint(obj: dict[str, Any], path: Path) -> None:
    """The one place the native engine writes a checkpoint file: crash-safe (temp, fsync,
    rename, directory fsync) with a checksum sidecar, as the Lightning engine's
    (see litrain.checkpoint.store)."""
    from litrain.checkpoint.store import atomic_save

    atomic_save(obj, path)


def remove_checkpoint(path: str | Path) -> None:
    from litrain.checkpoint.store import remove_checkpoint as remove_with_sidecar

    remove_with_sidecar(path)


class CheckpointKeeper:
    """Decides which checkpoints to write and which to delete; ``save`` writes one."""

    def __init__(self, cfg: CheckpointConfig, dirpath: Path) -> None:
        self.dir = dirpath
        self.monitor, self.mode = cfg.monitor, cfg.mode
        self.top_k = cfg.save_top_k if cfg.monitor else 1
        self.save_last, self.every_n = cfg.save_last, cfg.every_n_epochs
        self.template = checkpoint_filename(cfg.monitor)
        self.best_k: dict[str, float] = {}
        self.best_path = ""
        self.last_path = ""

    @property
    def best_score(self) -> float | None:
        return self.best_k.get(self.best_path)

    def _better(self, a: float, b: float) -> bool:
        return a < b if self.mode == "min" else a > b

    def _worst_path(self) -> str:
        pick = max if self.mode == "min" else min
        return pick(self.best_k, key=self.best_k.__getitem__)

    def _free_name(self, name: str, replacing: str | None) -> Path:
        path, version = self.dir / f"{name}.ckpt", 0
        while path.exists() and str(path) != replacing and str(path) not in self.best_k:
            version += 1
            path = self.dir / f"{name}-v{version}.ckpt"
        return path

    def on_epoch_end(self, epoch: int, step: int, metrics: dict[str, float], save: Any) -> None:
        """After validation: top-k (every ``every_n_epochs``), then ``last.ckpt``.
        ``save(path)`` writes the current state to ``path``."""
        if self.every_n >= 1 and (epoch + 1) % self.every_n == 0 and self.top_k != 0:
            self._save_top_k(epoch, step, metrics, save)
        if self.save_last:
            path = self.dir / "last.ckpt"
            save(path)
            self.last_path = str(path)

    def _save_top_k(self, epoch: int, step: int, metrics: dict[str, float], save: Any) -> None:
        values: dict[str, Any] = {"epoch": epoch, "step": step, **metrics}
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
