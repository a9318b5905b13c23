"""Multi-stage pipelines: ``litrain pipeline`` runs every stage of ``stages:`` in order, each
a fit of its own in ``<run_dir>/<stage>/``, and keeps ``<run_dir>/pipeline.json`` current;
``litrain fit --stage NAME`` runs one.

A rerun continues: a finished stage (its summary.json) is skipped untouched (if its
config.yaml is the config it would run with now, else the rerun is refused), an interrupted
one resumes from its last checkpoint exactly as ``fit --resume last`` (init_from is then not
applied again: the resumed weights win), and the stages after it run as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from litrain.config import Config
from litrain.config.load import stage_config
from litrain.errors import ConfigError
from litrain.run.group import GroupResult, Member, RunGroup, choose_group_dir, engine_fit, in_dir
from litrain.run.lifecycle import Engine, fit_run
from litrain.run.result import RunResult
from litrain.run.stages import InitWeights, stage_checkpoint

PIPELINE_FILE = "pipeline.json"
CONFIG_FILE = "pipeline.yaml"  # the config with its stages, as the pipeline ran it
EngineFactory = Callable[[Config], Engine]
PipelineResult = GroupResult  # pipeline.json as ``summary``, the stages this call trained


def pipeline_dir(cfg: Config, run_dir: str | Path | None, resume: str | None, overwrite: bool) -> Path:
    """The pipeline's directory: ``run_dir``, ``run.dir``, the newest pipeline under
    runs/<name>/ (``resume: last``) or a new runs/<name>/<time> (see
    :func:`~litrain.run.group.choose_group_dir`)."""
    return choose_group_dir(cfg, run_dir, resume, overwrite, status_file=PIPELINE_FILE, kind="pipeline")


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
    return in_dir(stage_config(cfg, name, flags), stage_dir)


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
    """Every stage in order, as the members of a run group; see the module docstring."""
    if not cfg.stages:
        raise ConfigError("litrain pipeline needs a config with stages: (see docs/pipelines.md)")
    names = [s.name for s in cfg.stages]
    for name in names:  # every stage's config, before anything runs
        stage_config(cfg, name, flags)
    base = pipeline_dir(cfg, run_dir, resume, overwrite)
    group = RunGroup(
        base,
        engine_fit(make_engine, quiet),
        status_file=PIPELINE_FILE,
        members_key="stages",
        kind="stage",
        quiet=quiet,
    )
    members = [
        Member(
            s.name,
            _own_config(cfg, s.name, flags, group.member_dir(s.name)),
            record={"init_from": s.init_from.model_dump() if s.init_from else None},
            init=lambda name=s.name: _init_weights(cfg, name, base),
        )
        for s in cfg.stages
    ]
    group.start(members, config=cfg, config_file=CONFIG_FILE)  # refuses a changed finished stage first
    return group.run(members)
