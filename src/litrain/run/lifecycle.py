"""The fit skeleton both engines share; an engine supplies only its loop.

    run dir (rank 0 chooses, every rank agrees) -> engine checks -> seed -> parts
    -> a pipeline stage's init_from weights (not on resume) -> engine setup -> resume checkpoint (resolved and checked) -> engine's pre-fit step
    -> config.yaml + stale temps (rank 0) -> the engine's loop -> summary.json (rank 0)

A preemption (``Preempted`` from either loop) becomes a result the CLI turns into exit 75; a
Ctrl-C writes summary.json with ``status: interrupted`` and raises ``RunInterrupted`` (exit 130);
a resumed run that had already finished keeps its recorded metrics; a run that fails before
it writes a checkpoint, a log or a result leaves no run dir behind.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from litrain.checkpoint.store import clean_stale_temps
from litrain.config import Config
from litrain.core.hardware import resolve_accelerator
from litrain.core.noise import note
from litrain.core.rng import seed_everything
from litrain.launch.environment import agree_run_dir, is_global_zero
from litrain.models.operators import model_notes
from litrain.optim.optimizers import optimizer_note
from litrain.reliability.interrupt import Interrupted, InterruptHandler, RunInterrupted
from litrain.reliability.oom import out_of_memory
from litrain.reliability.preemption import Preempted
from litrain.run.card import write_card
from litrain.run.finetune import start_lines
from litrain.run.lock import release_run_dir
from litrain.run.loggers.spec import finish_loggers
from litrain.run.parts import Parts, build_parts
from litrain.run.report import write_config, write_fit_report, write_json
from litrain.run.result import FitOutcome, RunResult, build_summary, interrupted_summary, preempted_result
from litrain.run.rundir import checkpoint_dir, choose_run_dir, discard_if_empty, resolve_checkpoint
from litrain.run.stages import InitWeights
from litrain.run.trial import EpochReport


class Engine:
    """One engine's part of a fit. Subclasses override the steps they need."""

    name = "engine"
    # a sweep trial's report (run/trial.py): told every validation epoch, may stop the fit
    trial: EpochReport | None = None

    def prepare(self, cfg: Config) -> None:
        """Checks and settings before any data is built (devices, unsupported options)."""

    def setup(self, parts: Parts, run_dir: Path, quiet: bool) -> None:
        """Build the engine's objects around the parts (module, trainer, loop)."""
        raise NotImplementedError

    def resume(self, checkpoint: Path) -> None:
        """Check the resolved checkpoint fits and load (or schedule loading of) it."""
        raise NotImplementedError

    def before_fit(self, cfg: Config, run_dir: Path, resuming: bool) -> Config:
        """Last step before config.yaml is written; may refine the config (the LR finder)."""
        return cfg

    def fit(self) -> FitOutcome:
        """The loop. Raises ``Preempted`` when a preemption signal stopped it."""
        raise NotImplementedError

    def position(self) -> tuple[int, str]:
        """(epoch, 0-based; phase: training | validation) now: what a Ctrl-C reports."""
        return 0, "training"


def fit_run(
    cfg: Config,
    engine: Engine,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    init: InitWeights | None = None,
) -> RunResult:
    """Train ``cfg`` with ``engine``: every step but the loop itself is here. ``init`` (a
    pipeline stage's init_from) loads weights into the new model; never over a resume."""
    explicit = run_dir or cfg.run.dir
    # a directory this call creates is removed again if the run fails before it writes a
    # checkpoint, a log or a result (a resumed or pre-existing directory is never removed)
    fresh = resume is None and not (explicit and Path(explicit).exists())
    # Under a multi-process launch only rank 0 chooses (and checks) the run dir.
    out_dir = agree_run_dir(
        lambda: choose_run_dir(cfg, run_dir, resume, overwrite),
        cfg,
        resolve_accelerator(cfg.trainer.accelerator),
    )
    try:
        return _fit_in(cfg, engine, out_dir, resume, quiet, init)
    except BaseException:
        if fresh and is_global_zero():
            discard_if_empty(cfg, out_dir)
        raise
    finally:
        release_run_dir(out_dir)  # taken by choose_run_dir (rank 0)


def _fit_in(
    cfg: Config, engine: Engine, out_dir: Path, resume: str | None, quiet: bool, init: InitWeights | None
) -> RunResult:
    engine.prepare(cfg)
    seed_everything(cfg.run.seed)
    parts = build_parts(cfg)
    if init is not None and not resume:  # a resumed run's own weights win
        init.apply(parts.model, quiet)
    cfg = parts.config
    if parts.task is not None:  # the optimizer's own account of the parameters (muon's split)
        line = optimizer_note(parts.model, cfg.optim)
        if line:
            note(line, quiet)
        for line in [*parts.task.notes, *model_notes(parts.model)]:  # class weights, fno modes
            note(line, quiet)
        for line in start_lines(parts.model, cfg):  # finetune's block and param groups
            note(line, quiet)
    engine.setup(parts, out_dir, quiet)
    if resume:
        engine.resume(resolve_checkpoint(resume, cfg, out_dir))
    cfg = engine.before_fit(cfg, out_dir, resuming=bool(resume))
    if is_global_zero():
        write_config(cfg, out_dir / "config.yaml")
        write_card(parts.card, out_dir)  # what the model takes, so it loads without the data
        clean_stale_temps(checkpoint_dir(cfg, out_dir))  # left by a run killed mid-write
    start = time.perf_counter()
    ctrl_c = InterruptHandler(engine.position)  # until summary.json is written: a second one exits
    ctrl_c.install()
    try:
        try:
            outcome = engine.fit()
            ctrl_c.raise_lost()  # a Ctrl-C in the last batches, lost and never re-raised
        except Preempted as stop:
            return preempted_result(stop, out_dir, cfg)
        except torch.OutOfMemoryError as exc:  # one line with what helps, not a traceback
            raise out_of_memory(exc, cfg.data.batch_size, cfg.trainer.oom_recovery) from None
        except BaseException as exc:
            stop = exc if isinstance(exc, Interrupted) else ctrl_c.caused(exc)
            if stop is None:
                if is_global_zero():
                    finish_loggers(cfg, out_dir, None)  # the tracking run is marked failed
                raise
            summary = interrupted_summary(engine.name, stop, cfg, time.perf_counter() - start, out_dir)
            if is_global_zero():
                write_json(out_dir / "summary.json", summary)
                finish_loggers(cfg, out_dir, summary)
            raise RunInterrupted(summary["message"]) from None
        summary = build_summary(engine.name, outcome, cfg, time.perf_counter() - start, out_dir)
        if is_global_zero():
            write_json(out_dir / "summary.json", summary)
            if cfg.logging.report:
                write_fit_report(out_dir, quiet)
            finish_loggers(cfg, out_dir, summary)  # artifacts (the report too): the run dir is complete now
    finally:
        ctrl_c.uninstall()
    return RunResult(
        summary["metrics"], out_dir, cfg, outcome.best_checkpoint, outcome.last_checkpoint, summary
    )
