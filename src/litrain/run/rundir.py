"""The run directory: where it is, refusing to mix two runs in one, and turning
``best`` / ``last`` / a path into a real checkpoint file with an actionable error."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.errors import CheckpointError, ConfigError


def runs_root(cfg: Config) -> Path:
    return Path("runs") / cfg.run.name


def latest_run(cfg: Config) -> Path | None:
    root = runs_root(cfg)
    runs = sorted(p for p in root.glob("*") if (p / "config.yaml").is_file()) if root.is_dir() else []
    return runs[-1] if runs else None


def resumed_config(cfg: Config, run_dir: str | Path | None, resume: str, overrides: dict[str, Any]) -> Config:
    """For a resume given no config file: the run's own config as the base, this call's
    overrides on top. The base is the run dir's config.yaml (``--resume last``, or a run dir
    that has one), else the config a checkpoint path stores; ``cfg`` when neither exists.
    An override that changes what the checkpoint's weights were built for is an error."""
    from litrain.config import kwargs_to_overrides, load_config

    chosen = Path(run_dir or cfg.run.dir) if (run_dir or cfg.run.dir) else None
    if chosen is None and resume == "last":
        chosen = latest_run(cfg)
    if chosen is not None and (chosen / "config.yaml").is_file():
        return load_config([chosen / "config.yaml"], kwargs_to_overrides(overrides))
    if resume in ("last", "best") or not Path(resume).is_file():
        return cfg  # resolve_checkpoint names what is missing
    from litrain.checkpoint.load import config_from_checkpoint, load_checkpoint

    stored = config_from_checkpoint(load_checkpoint(resume))
    if not stored:
        return cfg
    resumed = load_config(base=stored, overrides=kwargs_to_overrides(overrides))
    _check_same_architecture(Config.model_validate(stored), resumed, resume)
    return resumed


# What a checkpoint's weights were built for: changing one of these on resume cannot load.
_ARCHITECTURE = (
    ("model", "name"),
    ("model", "class_path"),
    ("model", "hidden"),
    ("model", "in_chans"),
    ("task", "type"),
    ("task", "num_classes"),
)


def _check_same_architecture(stored: Config, resumed: Config, path: str) -> None:
    for section, key in _ARCHITECTURE:
        was = getattr(getattr(stored, section), key)
        now = getattr(getattr(resumed, section), key)
        if was != now and not (key == "name" and was == _canonical(now)):
            raise ConfigError(
                f"{path} is from another model: this checkpoint was trained with {section} {key} "
                f"{was}, not {now}; drop --{section}.{key} to resume it, or start a new run "
                "without --resume"
            )


def _canonical(name: str) -> str:
    from litrain.models.factory import resolve_name

    try:
        return resolve_name(name)
    except ConfigError:
        return name


def choose_run_dir(cfg: Config, run_dir: str | Path | None, resume: str | None, overwrite: bool) -> Path:
    """The directory for a fit. A directory that already holds a run is reused only to
    resume it; ``overwrite`` deletes the old run first."""
    chosen = Path(run_dir or cfg.run.dir) if (run_dir or cfg.run.dir) else None
    if chosen is None and resume == "last":
        chosen = latest_run(cfg)
        if chosen is None:
            raise ConfigError(f"--resume last: no earlier run under {runs_root(cfg)}; pass --run-dir")
    if chosen is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        chosen = runs_root(cfg) / stamp
        n = 1
        while chosen.exists():  # two runs started in the same second
            chosen = runs_root(cfg) / f"{stamp}-{n}"
            n += 1
    if chosen.exists() and not chosen.is_dir():
        raise ConfigError(f"run dir {chosen} is a file, not a directory: choose another --run-dir")
    if holds_run(cfg, chosen) and resume is None:
        if not overwrite:
            raise ConfigError(
                f"run dir {chosen} holds another run: pass --overwrite to replace it, "
                "--resume last to continue it, or choose another --run-dir"
            )
        shutil.rmtree(chosen)
    chosen.mkdir(parents=True, exist_ok=True)
    if resume is not None:
        from litrain.checkpoint.store import clean_stale_temps

        # Before 'last' is looked up: a crash may have stopped a sharded checkpoint's swap
        # between its two renames (litrain.checkpoint.store_dir). Only rank 0 chooses, so only it renames.
        clean_stale_temps(checkpoint_dir(cfg, chosen))
    return chosen


# Files that make a directory a run worth keeping: its results. A config.yaml alone (a run
# that failed before it trained) is not one.
_RESULTS = ("summary.json", "history.json")


def holds_run(cfg: Config, run_dir: Path) -> bool:
    """A checkpoint, a log file or a result: the directory holds a run that trained."""
    if any((run_dir / name).is_file() for name in _RESULTS):
        return True
    ckpts = checkpoint_dir(cfg, run_dir)
    if ckpts.is_dir() and any(ckpts.iterdir()):
        return True
    logs = run_dir / "logs"
    return logs.is_dir() and any(p.is_file() for p in logs.rglob("*"))


def discard_if_empty(cfg: Config, run_dir: Path) -> bool:
    """Remove a run dir this call created when the run failed before writing anything that
    :func:`holds_run` keeps (no empty ``runs/<name>/<time>/`` is left behind)."""
    if not run_dir.is_dir() or holds_run(cfg, run_dir):
        return False
    shutil.rmtree(run_dir, ignore_errors=True)
    return True


def checkpoint_dir(cfg: Config, run_dir: Path) -> Path:
    return Path(cfg.checkpoint.dir) if cfg.checkpoint.dir else run_dir / "checkpoints"


def resolve_checkpoint(spec: str, cfg: Config, run_dir: Path | None) -> Path:
    """``last``: the newest checkpoint of the run; ``best``: the run's best; else a path."""
    if spec not in ("last", "best"):
        p = Path(spec).expanduser()
        if not p.is_file() and not (p / ".metadata").is_file():  # a file, or FSDP shards
            raise CheckpointError(f"checkpoint {p} does not exist")
        return p
    if run_dir is None:
        raise CheckpointError(f"'{spec}' needs a run: pass --run-dir DIR")
    ckpt_dir = checkpoint_dir(cfg, run_dir)
    if spec == "best":
        summary = run_dir / "summary.json"
        if summary.is_file():
            best = json.loads(summary.read_text()).get("best_checkpoint")
            if best and Path(best).is_file():
                return Path(best)
    found = sorted(ckpt_dir.glob("*.ckpt"), key=lambda p: p.stat().st_mtime) if ckpt_dir.is_dir() else []
    if not found:
        raise CheckpointError(f"no checkpoint in {ckpt_dir} to use as '{spec}'")
    if spec == "last":
        # A torn or corrupt newest file (a crash, a bad disk) falls back, with a warning, to
        # the newest checkpoint that verifies.
        from litrain.checkpoint.store import newest_valid

        good = newest_valid(ckpt_dir)
        if good is None:
            raise CheckpointError(f"no valid checkpoint in {ckpt_dir}: every *.ckpt there is corrupt")
        return good
    return found[-1]
