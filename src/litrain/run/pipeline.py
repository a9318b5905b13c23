"""Multi-stage pipelines: ``litrain pipeline`` runs every stage of ``stages:`` in order, each
a fit of its own in ``<run_dir>/<stage>/``, and keeps ``<run_dir>/pipeline.json`` current;
``litrain fit --stage NAME`` runs one.

A rerun continues: a finished stage (its summary.json) is skipped untouched (if its
config.yaml is the config it would run with now, else the rerun is refused), an interrupted
one resumes from its last checkpoint exactly as ``fit --resume last`` (init_from is then not
applied again: the resumed weights win), and the stages after it run as usual.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.config.diff import changed_keys
from litrain.config.load import load_config, stage_config
from litrain.core.noise import note
from litrain.errors import ConfigError
from litrain.launch.environment import is_global_zero
from litrain.run.lifecycle import Engine, fit_run
from litrain.run.report import write_json
from litrain.run.result import RunResult
from litrain.run.rundir import checkpoint_dir, holds_run, runs_root
from litrain.run.stages import InitWeights, finished, read_summary, stage_checkpoint

PIPELINE_FILE = "pipeline.json"
CONFIG_FILE = "pipeline.yaml"  # the config with its stages, as the pipeline ran it
EngineFactory = Callable[[Config], Engine]


@dataclass
class PipelineResult:
    run_dir: Path
    summary: dict[str, Any]  # pipeline.json
    results: list[RunResult] = field(default_factory=list)  # the stages this call trained

    @property
    def preempted(self) -> bool:
        return self.summary.get("status") == "preempted"


def pipeline_dir(cfg: Config, run_dir: str | Path | None, resume: str | None, overwrite: bool) -> Path:
    """The pipeline's directory: ``run_dir``, ``run.dir``, the newest pipeline under
    runs/<name>/ (``resume: last``) or a new runs/<name>/<time>. Absolute, so the checkpoint
    paths the stages record hold from any working directory."""
    chosen = Path(run_dir or cfg.run.dir) if (run_dir or cfg.run.dir) else None
    if chosen is None and resume == "last":
        root = runs_root(cfg)
        found = sorted(p.parent for p in root.glob(f"*/{PIPELINE_FILE}")) if root.is_dir() else []
        if not found:
            raise ConfigError(f"--resume last: no earlier pipeline under {root}; pass --run-dir")
        chosen = found[-1]
    if chosen is None:
        chosen = runs_root(cfg) / time.strftime("%Y%m%d-%H%M%S")
    if chosen.exists() and not chosen.is_dir():
        raise ConfigError(f"run dir {chosen} is a file, not a directory: choose another --run-dir")
    if chosen.is_dir() and not (chosen / PIPELINE_FILE).is_file() and holds_run(cfg, chosen):
        raise ConfigError(f"run dir {chosen} holds a single run, not a pipeline: choose another --run-dir")
    if overwrite and chosen.is_dir():
        shutil.rmtree(chosen)
    return chosen.absolute()


def _stage_dir(base: Path, name: str) -> Path:
    return base / name


def _init_weights(cfg: Config, name: str, base: Path) -> InitWeights | None:
    stage = next(s for s in cfg.stages if s.name == name)
    if stage.init_from is None:
        return None
    src = stage.init_from
    path = stage_checkpoint(src.stage, src.checkpoint, _stage_dir(base, src.stage), name)
    return InitWeights(src.stage, src.checkpoint, path, src.strict)


def _own_config(cfg: Config, name: str, flags: dict[str, Any], stage_dir: Path) -> Config:
    """The stage's config, with its own dir as run.dir: its config.yaml then resumes there."""
    scfg = stage_config(cfg, name, flags)
    return scfg.model_copy(update={"run": scfg.run.model_copy(update={"dir": str(stage_dir)})})


def fit_stage(
    cfg: Config,
    name: str,
    flags: dict[str, Any],
    make_engine: EngineFactory,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
) -> RunResult:
    """``litrain fit --stage NAME``: one stage, in ``<run_dir>/<NAME>``, as a plain fit."""
    stage_config(cfg, name, flags)  # an unknown stage, before any directory is chosen
    base = pipeline_dir(cfg, run_dir, "last" if resume == "last" else None, overwrite=False)
    sdir = _stage_dir(base, name)
    scfg = _own_config(cfg, name, flags, sdir)
    init = None if resume else _init_weights(cfg, name, base)
    return fit_run(
        scfg, make_engine(scfg), run_dir=sdir, resume=resume, overwrite=overwrite, quiet=quiet, init=init
    )


def _check_unchanged(cfg: Config, name: str, flags: dict[str, Any], sdir: Path) -> None:
    """A finished stage is skipped only if it ran with the config it would run with now;
    otherwise its results would pass for those of the changed config."""
    saved = sdir / "config.yaml"
    if not finished(sdir) or not saved.is_file():
        return
    changed = [
        (key, was, now)
        for key, was, now in changed_keys(load_config([saved]), _own_config(cfg, name, flags, sdir))
        if not _resolved_at_fit(key, now)
    ]
    if not changed:
        return
    shown = ", ".join(f"{key} {was!r} -> {now!r}" for key, was, now in changed[:4])
    more = f" (+{len(changed) - 4} more)" if len(changed) > 4 else ""
    raise ConfigError(
        f"stage {name} finished earlier in {sdir} with another config: {shown}{more}; rerun "
        "with the config it ran with, pass --overwrite to train every stage again, or choose "
        "a new --run-dir"
    )


def _resolved_at_fit(key: str, now: Any) -> bool:
    """config.yaml records what ran: an ``auto`` (monitors, modes, augment_device) and a
    task key the data fills in (``num_classes: null``) were made concrete there."""
    return now == "auto" or (now is None and key.startswith("task."))


def _record(name: str, sdir: Path, status: str, init: dict[str, Any] | None) -> dict[str, Any]:
    s = read_summary(sdir) or {}
    keys = ("monitor", "best_metric", "best_checkpoint", "last_checkpoint", "epochs", "steps", "wall_time_s")
    return {
        "name": name,
        "status": status,
        "run_dir": str(sdir),
        "init_from": init,
        **{k: s.get(k) for k in keys},
    }


def run_pipeline(
    cfg: Config,
    flags: dict[str, Any],
    make_engine: EngineFactory,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
) -> PipelineResult:
    """Every stage in order; see the module docstring."""
    if not cfg.stages:
        raise ConfigError("litrain pipeline needs a config with stages: (see docs/pipelines.md)")
    names = [s.name for s in cfg.stages]
    for name in names:  # every stage's config, before anything runs
        stage_config(cfg, name, flags)
    base = pipeline_dir(cfg, run_dir, resume, overwrite)
    for name in names:  # before pipeline.yaml is rewritten or anything trains
        _check_unchanged(cfg, name, flags, _stage_dir(base, name))
    base.mkdir(parents=True, exist_ok=True)
    if is_global_zero():
        cfg.save(base / CONFIG_FILE)
    inits = {s.name: s.init_from.model_dump() if s.init_from else None for s in cfg.stages}
    records = [_record(n, _stage_dir(base, n), "pending", inits[n]) for n in names]
    result = PipelineResult(base, {})

    def write(status: str) -> None:
        wall = sum(r["wall_time_s"] or 0 for r in records)
        result.summary = {
            "status": status,
            "run_dir": str(base),
            "stages": records,
            "wall_time_s": round(wall, 3),
        }
        if is_global_zero():
            write_json(base / PIPELINE_FILE, result.summary)

    for i, name in enumerate(names):
        sdir = _stage_dir(base, name)
        if finished(sdir):
            note(f"stage {name}: finished earlier in {sdir}, skipped", quiet)
            records[i] = _record(name, sdir, "finished", inits[name])
            continue
        scfg = _own_config(cfg, name, flags, sdir)
        ckpts = checkpoint_dir(scfg, sdir)
        interrupted = ckpts.is_dir() and any(ckpts.glob("*.ckpt"))
        # trained but saved nothing (killed in its first epoch): nothing to keep, start again
        restart = not interrupted and sdir.is_dir() and holds_run(scfg, sdir)
        init = None if interrupted else _init_weights(cfg, name, base)
        note(
            f"stage {name}: {'resuming from its last checkpoint' if interrupted else 'training'} in {sdir}",
            quiet,
        )
        records[i]["status"] = "running"
        write("running")
        out = fit_run(
            scfg,
            make_engine(scfg),
            run_dir=sdir,
            resume="last" if interrupted else None,
            overwrite=restart,
            quiet=quiet,
            init=init,
        )
        result.results.append(out)
        if out.summary.get("preempted"):
            records[i]["status"] = "preempted"
            write("preempted")
            return result
        records[i] = _record(name, sdir, "finished", inits[name])
    write("finished")
    return result
