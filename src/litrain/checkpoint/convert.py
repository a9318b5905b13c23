"""Checkpoint conversion: Lightning checkpoint <-> native checkpoint <-> bare safetensors.

- Lightning keeps the model under TaskModule's ``model.`` prefix and the loop position in
  ``loops``; the native format (engine/checkpoints.py) keeps the bare model and
  ``epoch``/``global_step``/``batches_per_epoch``. Optimizer and schedule states are the
  same objects in both (one optimizer over ``model.parameters()`` in the same order), so a
  run resumes in either engine at the same next step.
- Prefixes that wrappers add are stripped on the way to native/safetensors: ``_orig_mod.``
  (``torch.compile``'s OptimizedModule) and ``module.`` (DDP / DataParallel).
- safetensors holds weights only, with the run's config as JSON metadata.

Reading Lightning checkpoints needs no Lightning import; writing one needs none either.
"""

from __future__ import annotations

import json
import math
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from litrain.engines.native.checkpoints import NATIVE_FORMAT, write_checkpoint
from litrain.errors import CheckpointError, ConfigError

TARGETS = ("native", "lightning", "safetensors")
MODULE_PREFIX = "model."  # TaskModule.model
WRAPPER_PREFIXES = ("_orig_mod.", "module.")


def is_native(ckpt: dict[str, Any]) -> bool:
    return ckpt.get("format") == NATIVE_FORMAT


def saved_mid_epoch(ckpt: dict[str, Any]) -> bool:
    """Whether ``ckpt`` was written inside an epoch (``checkpoint.every_n_steps``, preemption).
    Native: it holds a position; Lightning: its fit loop started an epoch it did not finish."""
    if is_native(ckpt):
        return bool((ckpt.get("native") or {}).get("position"))
    fit = ((ckpt.get("loops") or {}).get("fit_loop")) or {}
    current = (fit.get("epoch_progress") or {}).get("current") or {}
    return int(current.get("ready", 0)) > int(current.get("processed", 0))


def check_resumable_in(ckpt: dict[str, Any], engine: str, path: str | Path) -> None:
    """A mid-epoch checkpoint resumes only in the engine that wrote it: the two engines keep
    the position inside an epoch (loader state, running sums) in different forms."""
    wrote = "native" if is_native(ckpt) else "lightning"
    if wrote != engine and saved_mid_epoch(ckpt):
        raise CheckpointError(
            f"{path} was saved mid-epoch by the {wrote} engine and resumes only there: use "
            f"run.engine={wrote}, or resume from an epoch-end checkpoint"
        )


def bare_state_dict(state: dict[str, Any], strip_module: bool = True) -> dict[str, Any]:
    """Model weights without TaskModule's ``model.`` prefix and without ``_orig_mod.`` /
    ``module.`` from compile/DDP wrappers (at any depth)."""
    out = {}
    for key, value in state.items():
        if strip_module and key.startswith(MODULE_PREFIX):
            key = key[len(MODULE_PREFIX) :]
        parts = [p for p in key.split(".") if p not in ("_orig_mod", "module")]
        out[".".join(parts)] = value
    return out


def _config_of(ckpt: dict[str, Any]) -> dict[str, Any]:
    hp = ckpt.get("hyper_parameters") or {}
    cfg = hp.get("config") if isinstance(hp, dict) else None
    return cfg if isinstance(cfg, dict) else {}


def _callback(ckpt: dict[str, Any], name: str) -> dict[str, Any]:
    for key, state in (ckpt.get("callbacks") or {}).items():
        if key.split("{", 1)[0] == name and isinstance(state, dict):
            return state
    return {}


def _f(value: Any) -> float:
    return float(value) if value is not None else math.nan


def to_native(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A native checkpoint from a native (returned as is) or Lightning checkpoint."""
    if is_native(ckpt):
        return ckpt
    fit = ((ckpt.get("loops") or {}).get("fit_loop")) or {}
    epoch = int(ckpt.get("epoch", 0))
    processed = (fit.get("epoch_progress") or {}).get("current", {}).get("processed")
    if processed is not None:  # epochs Lightning finished; the last one is 0-based processed-1
        epoch = int(processed) - 1
    batches = (fit.get("epoch_loop.batch_progress") or {}).get("current", {}).get("ready", 0)
    mc, es = _callback(ckpt, "ModelCheckpoint"), _callback(ckpt, "EarlyStopping")
    scaler = ckpt.get("MixedPrecision") or ckpt.get("native_amp_scaling_state")
    return {
        "format": NATIVE_FORMAT,
        "state_dict": bare_state_dict(ckpt["state_dict"]),
        "optimizer_states": list(ckpt.get("optimizer_states") or []),
        "lr_schedulers": list(ckpt.get("lr_schedulers") or []),
        "scaler": scaler or None,
        "epoch": epoch,
        "global_step": int(ckpt.get("global_step", 0)),
        "batches_per_epoch": int(batches),
        "hyper_parameters": {"config": _config_of(ckpt)},
        "native": {
            "checkpoints": {
                "best_k": {k: _f(v) for k, v in (mc.get("best_k_models") or {}).items()},
                "best_path": mc.get("best_model_path", ""),
                "last_path": mc.get("last_model_path", ""),
            },
            "early_stopping": {
                "best": _f(es["best_score"]),
                "wait": int(es.get("wait_count", 0)),
                "stopped_epoch": int(es.get("stopped_epoch", 0)),
            }
            if es
            else None,
            "history": list(_callback(ckpt, "HistoryCallback").get("history") or []),
        },
    }


def _progress(n: int, started: bool = True, processed: bool = False) -> dict[str, int]:
    keys = ["ready"] + (["started"] if started else []) + (["processed"] if processed else []) + ["completed"]
    return dict.fromkeys(keys, n)


def _loops(epochs_done: int, steps: int, batches: int) -> dict[str, Any]:
    """Lightning's fit-loop state as ModelCheckpoint writes it after epoch ``epochs_done - 1``
    (processed = epochs_done, completed one behind: Lightning restarts at the next epoch)."""
    total_batches = epochs_done * batches
    epoch_progress = {
        "total": {**_progress(epochs_done, processed=True), "completed": epochs_done - 1},
        "current": {**_progress(epochs_done, processed=True), "completed": epochs_done - 1},
    }
    step = {"total": _progress(steps, started=False), "current": _progress(steps, started=False)}
    zero = {"total": _progress(steps), "current": _progress(steps)}
    return {
        "fit_loop": {
            "state_dict": {},
            "epoch_loop.state_dict": {"_batches_that_stepped": steps},
            "epoch_loop.batch_progress": {
                "total": _progress(total_batches, processed=True),
                "current": _progress(batches, processed=True),
                "is_last_batch": True,
            },
            "epoch_loop.scheduler_progress": step,
            "epoch_loop.automatic_optimization.state_dict": {},
            "epoch_loop.automatic_optimization.optim_progress": {
                "optimizer": {"step": step, "zero_grad": zero}
            },
            "epoch_loop.manual_optimization.state_dict": {},
            "epoch_loop.manual_optimization.optim_step_progress": {
                "total": _progress(0, started=False),
                "current": _progress(0, started=False),
            },
            "epoch_loop.val_loop.state_dict": {},
            "epoch_loop.val_loop.batch_progress": {
                "total": _progress(0, processed=True),
                "current": _progress(0, processed=True),
                "is_last_batch": False,
            },
            "epoch_progress": epoch_progress,
        },
        "validate_loop": {},
        "test_loop": {},
        "predict_loop": {},
    }


def _state_key(name: str, **kwargs: Any) -> str:
    return f"{name}{kwargs!r}"  # Lightning's Callback.state_key for these callbacks


def to_lightning(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A Lightning checkpoint (``Trainer.fit(ckpt_path=...)`` resumes from it) from a native
    or Lightning checkpoint (returned as is)."""
    if not is_native(ckpt):
        return ckpt
    cfg = _config_of(ckpt)
    ck, es = cfg.get("checkpoint") or {}, cfg.get("early_stopping") or {}
    native = ckpt.get("native") or {}
    kept = native.get("checkpoints") or {}
    best_k = {k: torch.tensor(v) for k, v in (kept.get("best_k") or {}).items()}
    best_path = kept.get("best_path", "")
    callbacks: dict[str, Any] = {"HistoryCallback": {"history": list(native.get("history") or [])}}
    if ck:
        worst = (max if ck.get("mode") == "min" else min)(best_k, key=lambda k: float(best_k[k]), default="")
        key = _state_key(
            "ModelCheckpoint",
            monitor=ck.get("monitor"),
            mode=ck.get("mode", "max"),
            every_n_train_steps=0,
            every_n_epochs=ck.get("every_n_epochs", 1),
            train_time_interval=None,
        )
        callbacks[key] = {
            "monitor": ck.get("monitor"),
            "best_model_score": best_k.get(best_path),
            "best_model_path": best_path,
            "current_score": best_k.get(best_path),
            "dirpath": str(Path(best_path or kept.get("last_path", ".")).parent),
            "best_k_models": best_k,
            "kth_best_model_path": worst,
            "kth_value": best_k.get(worst),
            "last_model_path": kept.get("last_path", ""),
        }
    stop = native.get("early_stopping")
    if stop and es:
        key = _state_key("EarlyStopping", monitor=es.get("monitor"), mode=es.get("mode"))
        callbacks[key] = {
            "wait_count": stop["wait"],
            "stopped_epoch": stop["stopped_epoch"],
            "best_score": torch.tensor(stop["best"]),
            "patience": es.get("patience", 0),
        }
    out: dict[str, Any] = {
        "epoch": int(ckpt["epoch"]),
        "global_step": int(ckpt["global_step"]),
        "pytorch-lightning_version": _lightning_version(),
        "state_dict": {MODULE_PREFIX + k: v for k, v in ckpt["state_dict"].items()},
        "loops": _loops(
            int(ckpt["epoch"]) + 1, int(ckpt["global_step"]), int(ckpt.get("batches_per_epoch", 0))
        ),
        "callbacks": callbacks,
        "optimizer_states": list(ckpt.get("optimizer_states") or []),
        "lr_schedulers": list(ckpt.get("lr_schedulers") or []),
        "hparams_name": None,
        "hyper_parameters": {"config": cfg},
    }
    if ckpt.get("scaler"):
        out["MixedPrecision"] = ckpt["scaler"]
    return out


def _lightning_version() -> str:
    try:
        return metadata.version("lightning")
    except metadata.PackageNotFoundError:
        return "2.0.0"


def from_safetensors(path: Path) -> dict[str, Any]:
    """A weights-only native checkpoint (no optimizer state: evaluate or fine-tune from it)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    try:
        state = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read safetensors file {path}: {exc}") from None
    cfg = json.loads(meta["litrain_config"]) if "litrain_config" in meta else {}
    return {
        "format": NATIVE_FORMAT,
        "state_dict": bare_state_dict(state),
        "optimizer_states": [],
        "lr_schedulers": [],
        "scaler": None,
        "epoch": -1,
        "global_step": 0,
        "batches_per_epoch": 0,
        "hyper_parameters": {"config": cfg},
        "native": {},
    }


def save_safetensors(ckpt: dict[str, Any], out: Path) -> None:
    from safetensors.torch import save_file

    state = bare_state_dict(ckpt["state_dict"]) if not is_native(ckpt) else ckpt["state_dict"]
    tensors = {k: v.detach().contiguous().clone() for k, v in state.items() if isinstance(v, torch.Tensor)}
    meta = {"format": "pt", "litrain_config": json.dumps(_config_of(ckpt))}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=meta)


def read_any(path: str | Path) -> dict[str, Any]:
    """A checkpoint in any of the three formats, as a dict (safetensors: native, weights only)."""
    from litrain.checkpoint.load import load_checkpoint

    p = Path(path)
    if p.suffix == ".safetensors":
        if not p.is_file():
            raise CheckpointError(f"checkpoint {p} does not exist")
        return from_safetensors(p)
    return load_checkpoint(p)


def convert(src: str | Path, to: str, out: str | Path) -> Path:
    """``litrain convert SRC --to native|lightning|safetensors OUT``."""
    if to not in TARGETS:
        raise ConfigError(f"--to {to!r}: choose one of {', '.join(TARGETS)}")
    src_p, out_p = Path(src), Path(out)
    if src_p.resolve() == out_p.resolve():
        raise ConfigError(f"convert would overwrite its input {src_p}: choose another OUT")
    ckpt = read_any(src_p)
    if to == "safetensors":
        save_safetensors(ckpt, out_p)
    else:
        check_resumable_in(ckpt, to, src_p)
        write_checkpoint(to_native(ckpt) if to == "native" else to_lightning(to_native(ckpt)), out_p)
    return out_p


def as_lightning_file(path: Path, scratch_dir: Path) -> Path:
    """``path`` itself when it is a Lightning checkpoint, else a Lightning copy of it in
    ``scratch_dir`` (for ``Trainer.fit(ckpt_path=...)`` on a native checkpoint, which must
    not be a mid-epoch one)."""
    ckpt = read_any(path)
    if not is_native(ckpt):
        return path
    check_resumable_in(ckpt, "lightning", path)
    out = scratch_dir / f"{path.stem}.lightning.ckpt"
    write_checkpoint(to_lightning(ckpt), out)
    return out
