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
from litrain.run.lock import LOCK_NAME, check_not_in_use, check_writable, lock_run_dir, release_run_dir


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
    """The directory for a fit, locked for this process (:mod:`litrain.run.lock`; the caller
    releases it). A directory that holds a run is reused only to resume it; ``overwrite``
    deletes the old run first. One that holds no run (a failed start: no checkpoint, no
    summary) is reused, its old logs and history removed. Nothing is touched before every
    check passed: another process's lock, another run, a read-only directory."""
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
    existed = chosen.is_dir()
    if existed:
        check_not_in_use(chosen)
        if resume is None and holds_run(cfg, chosen) and not overwrite:
            raise ConfigError(
                f"run dir {chosen} holds another run: pass --overwrite to replace it, "
                "--resume last to continue it, or choose another --run-dir"
            )
        check_writable(chosen, checkpoint_dir(cfg, chosen), chosen / "logs")
    make_dir(chosen)
    lock_run_dir(chosen)
    try:
        if existed and resume is None:
            _clear(chosen, everything=holds_run(cfg, chosen))
        if resume is not None:
            from litrain.checkpoint.store import clean_stale_temps

            # Before 'last' is looked up: a crash may have stopped a sharded checkpoint's swap
            # between its two renames (litrain.checkpoint.store_dir). Only rank 0 chooses, so only it renames.
            clean_stale_temps(checkpoint_dir(cfg, chosen))
    except BaseException:
        release_run_dir(chosen)
        raise
    return chosen


def make_dir(path: Path) -> None:
    """``mkdir -p``, its failure (a read-only parent) one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create run dir {path} ({exc.strerror}): choose another --run-dir"
        ) from None


# What a failed start leaves that would mix into the next run's files.
_DEBRIS = ("logs", "history.json", "summary.json")


def _clear(run_dir: Path, everything: bool) -> None:
    """--overwrite: every file of the old run; a failed start's debris: its logs and history
    (the run dir may be the user's own folder: nothing else is removed). The lock stays."""
    for p in run_dir.iterdir():
        if p.name == LOCK_NAME or not (everything or p.name in _DEBRIS):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def holds_run(cfg: Config, run_dir: Path) -> bool:
    """A checkpoint or a finished run's summary: the directory holds a run worth keeping.
    Logs, a history, a config.yaml or the summary of a run interrupted before its first
    checkpoint (a start that failed) are not one."""
    summary = run_dir / "summary.json"
    if summary.is_file():
        try:
            status = json.loads(summary.read_text()).get("status")
        except (OSError, ValueError, AttributeError):
            status = None
        if status != "interrupted":
            return True
    return has_checkpoint(cfg, run_dir)


def has_checkpoint(cfg: Config, run_dir: Path) -> bool:
    """Any checkpoint: a file, FSDP shards (a directory), a NaN stop's debug/ checkpoint."""
    ckpts = checkpoint_dir(cfg, run_dir)
    return ckpts.is_dir() and any(
        p.suffix == ".ckpt" or (p / ".metadata").is_file() for p in ckpts.rglob("*")
    )


def discard_if_empty(cfg: Config, run_dir: Path) -> bool:
    """Remove a run dir this call created when the run failed before writing anything that
    :func:`holds_run` keeps (no empty ``runs/<name>/<time>/`` is left behind)."""
    if not run_dir.is_dir() or holds_run(cfg, run_dir):
        return False
    shutil.rmtree(run_dir, ignore_errors=True)
    return True


def checkpoint_dir(cfg: Config, run_dir: Path) -> Path:
    return Path(cfg.checkpoint.dir) if cfg.checkpoint.dir else run_dir / "checkpoints"


def as_stored(run_dir: Path, path: str | Path | None) -> str | None:
    """How a run records one of its own files (summary.json): relative to the run dir, so
    a copied or moved run dir names its own files, not the original's. A file outside it
    (a checkpoint.dir elsewhere) stays absolute."""
    if not path:
        return None
    p, root = Path(path).resolve(), Path(run_dir).resolve()
    return p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p)


def from_stored(run_dir: Path, stored: str | Path) -> Path:
    """A path a run recorded, inside the run dir it is read from. An absolute one (written
    before paths were relative, then copied or moved) is looked up by its tail in this run
    dir (``checkpoints/NAME``) before it is taken as it is."""
    p = Path(stored)
    if not p.is_absolute():
        return Path(run_dir) / p
    if not p.resolve().is_relative_to(Path(run_dir).resolve()):
        for tail in (p.parts[-2:], p.parts[-1:]):
            here = Path(run_dir).joinpath(*tail)
            if here.exists():
                return here
    return p


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
            if best and from_stored(run_dir, best).is_file():
                return from_stored(run_dir, best)
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
