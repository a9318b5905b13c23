"""The Python API: ``fit``, ``validate``, ``test``, ``predict``, ``tune_lr``, ``export``,
``load``. The CLI calls exactly these. Each is a few lines: a config, then the shared
lifecycle with the chosen engine (fit) or the Lightning engine's evaluation
(validate/test/predict). (``litrain.export`` is the package of export formats: the function
is ``litrain.api.export``; likewise ``litrain.sweep`` is a package and the function is
``litrain.api.sweep``.)"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litrain.errors import ConfigError
from litrain.registry import ENGINES
from litrain.run.config_source import ConfigSource, as_config
from litrain.run.result import RunResult

if TYPE_CHECKING:
    from litrain.config import Config
    from litrain.data.shards.write_options import SplitResult
    from litrain.run.lifecycle import Engine
    from litrain.run.pipeline import PipelineResult
    from litrain.sweep.run import SweepResult
    from litrain.trained.calibrated import Calibrated
    from litrain.trained.ensemble import Ensemble
    from litrain.trained.run import TrainedRun

__all__ = [
    "ConfigSource",
    "RunResult",
    "as_config",
    "export",
    "fit",
    "load",
    "pipeline",
    "predict",
    "report",
    "shard",
    "sweep",
    "test",
    "tune_batch_size",
    "tune_lr",
    "validate",
]


def fit(
    config_or_path: ConfigSource = None,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    stage: str | None = None,
    **overrides: Any,
) -> RunResult:
    """Train. ``resume`` is ``last`` (newest checkpoint of the run dir) or a path. ``stage``
    trains one stage of the config's pipeline, in ``<run_dir>/<stage>`` (docs/pipelines.md)."""
    from litrain.run.lifecycle import fit_run

    cfg = as_config(config_or_path, overrides)
    ensemble_cfg = _ensemble_config(config_or_path, cfg, run_dir, overrides)
    if ensemble_cfg is not None and stage is None:  # members as a run group, then pooled
        from litrain.trained.ensemble_fit import fit_ensemble

        return fit_ensemble(
            ensemble_cfg, _engine, run_dir=run_dir, resume=resume, overwrite=overwrite, quiet=quiet
        )
    if stage is not None:
        from litrain.config import kwargs_to_overrides
        from litrain.run.pipeline import fit_stage

        flags = kwargs_to_overrides(overrides)
        return fit_stage(
            cfg, stage, flags, _engine, run_dir=run_dir, resume=resume, overwrite=overwrite, quiet=quiet
        )
    if resume and config_or_path is None:
        from litrain.run.rundir import resumed_config

        cfg = resumed_config(cfg, run_dir, resume, overrides)  # the run's engine too
    if resume:
        from litrain.run.resume_point import nothing_to_train

        line = nothing_to_train(cfg, resume, run_dir)
        if line:  # no hollow run dir: the checkpoint's own run is the result
            ckpt = Path(resume)
            home = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent
            return RunResult({}, home, cfg, summary={"status": "nothing to train", "message": line})
    engine = ENGINES.get(cfg.run.engine)()
    result = fit_run(cfg, engine, run_dir=run_dir, resume=resume, overwrite=overwrite, quiet=quiet)
    if cfg.task.calibrate == "auto":
        from litrain.trained.calibrated import calibrate_after_fit

        record = calibrate_after_fit(result.run_dir, result.config, result.best_checkpoint)
        if record is not None and not quiet:
            print(
                f"calibrated: val NLL {record['val_nll_before']:.4f} -> {record['val_nll_after']:.4f} ({record['path']})"
            )
    return result


def _ensemble_config(
    config_or_path: ConfigSource, cfg: Config, run_dir: str | Path | None, overrides: dict[str, Any]
) -> Config | None:
    """The config of an ensemble fit: ``cfg`` when it has model.ensemble; with no config
    given, the ensemble dir's own (``ensemble.yaml``: rerunning continues it); else None."""
    if cfg.model.ensemble is not None:
        return cfg
    from litrain.trained.ensemble_fit import CONFIG_FILE

    saved = Path(run_dir or cfg.run.dir or "") / CONFIG_FILE
    if config_or_path is None and (run_dir or cfg.run.dir) and saved.is_file():
        return as_config(saved, overrides)
    return None


def tune_lr(
    config_or_path: ConfigSource = None,
    *,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    **overrides: Any,
) -> RunResult:
    """Run the LR finder alone: plots/lr_finder.png and config.yaml with the suggested lr,
    ready for ``litrain fit --config RUN/config.yaml``."""
    from litrain.tune.lr import tune_lr as run_finder

    return run_finder(as_config(config_or_path, overrides), run_dir=run_dir, overwrite=overwrite, quiet=quiet)


def tune_batch_size(
    config_or_path: ConfigSource = None,
    *,
    run_dir: str | Path | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    keep_global: bool = False,
    **overrides: Any,
) -> RunResult:
    """Find the largest per-device batch one training step fits in (data.batch_size: auto);
    writes config.yaml with it. ``keep_global``: keep the config's batch x devices x
    accumulation, setting accumulate_grad_batches to make it up."""
    from litrain.tune.batch_size import tune_batch_size as run_finder

    cfg = as_config(config_or_path, overrides)
    return run_finder(cfg, run_dir=run_dir, overwrite=overwrite, quiet=quiet, keep_global=keep_global)


def _evaluate(
    stage: str,
    config_or_path: ConfigSource,
    checkpoint: str,
    run_dir: Any,
    quiet: bool,
    overrides: dict[str, Any],
) -> RunResult:
    from litrain.engines.lightning.evaluate import evaluate
    from litrain.reliability.oom import one_line_oom
    from litrain.run.lock import holding
    from litrain.run.restore import eval_setup

    ens = _ensemble_dir(run_dir, config_or_path, checkpoint)
    if ens is not None:  # the pooled members (litrain.trained.ensemble_eval)
        from litrain.trained.ensemble_eval import test_ensemble

        with holding(ens):
            metrics = test_ensemble(ens, "val" if stage == "validate" else "test")
        return RunResult(metrics, ens, as_config(None, {}), best_checkpoint="ensemble")
    cfg, rd, ckpt_path = eval_setup(config_or_path, checkpoint, run_dir, overrides)
    # its results go there: no other process writes it meanwhile
    with holding(rd), one_line_oom(cfg.data.batch_size, cfg.trainer.oom_recovery, stage):
        metrics, parts = evaluate(stage, cfg, ckpt_path, rd, quiet)
    return RunResult(metrics, rd, parts.config, best_checkpoint=str(ckpt_path))


def _ensemble_dir(run_dir: str | Path | None, config_or_path: ConfigSource, checkpoint: str) -> Path | None:
    """``run_dir`` when it is an ensemble's dir (its ensemble.json) evaluated as a whole (no
    --config, --ckpt best); None otherwise. An unfinished ``model.ensemble`` fit: one line."""
    if run_dir is None or config_or_path is not None:
        return None
    from litrain.trained.ensemble import ENSEMBLE_FILE
    from litrain.trained.ensemble_fit import unfinished

    unfinished(run_dir)
    if not (Path(run_dir) / ENSEMBLE_FILE).is_file():
        return None
    if checkpoint != "best":
        raise ConfigError(f"{run_dir} is an ensemble: its members' best checkpoints are pooled; drop --ckpt")
    return Path(run_dir)


def validate(
    config_or_path: ConfigSource = None,
    *,
    checkpoint: str = "best",
    run_dir: str | Path | None = None,
    quiet: bool = False,
    **overrides: Any,
) -> RunResult:
    """Evaluate a checkpoint on the validation split; writes run_dir/validate_metrics.json."""
    return _evaluate("validate", config_or_path, checkpoint, run_dir, quiet, overrides)


def test(
    config_or_path: ConfigSource = None,
    *,
    checkpoint: str = "best",
    run_dir: str | Path | None = None,
    quiet: bool = False,
    **overrides: Any,
) -> RunResult:
    """Evaluate a checkpoint on the test split; writes test_metrics.json and the task's
    artifacts (classification: the confusion matrix, CSV + PNG)."""
    return _evaluate("test", config_or_path, checkpoint, run_dir, quiet, overrides)


test.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported


def predict(
    config_or_path: ConfigSource = None,
    *,
    checkpoint: str = "best",
    run_dir: str | Path | None = None,
    output: str | Path | None = None,
    split: str = "test",
    quiet: bool = False,
    model: str | Path | None = None,
    mc_samples: int | None = None,
    **overrides: Any,
) -> RunResult:
    """Write the task's predictions file (classification: predictions.csv with index,
    target, pred, then one probability column per class). ``model``: an artefact of
    ``litrain export`` (.onnx or .pt2) run instead of the checkpoint, on the data of the
    config it carries (or ``config_or_path``); default output predictions.csv beside it.
    ``mc_samples=K``: the mean of K MC dropout passes (dropout layers on, the rest in eval
    mode, seeded by run.seed), then per sample predictive entropy, expected entropy, mutual
    information and disagreement."""
    if model is not None and mc_samples is not None:
        raise ConfigError("--mc-samples runs the checkpoint's model with dropout on: drop --model")
    if model is not None:
        from litrain.export.predict import predict_artefact

        cfg, written = predict_artefact(model, config_or_path, overrides, output, split)
        return RunResult({}, Path(model).parent, cfg, best_checkpoint=str(model), output=written)
    from litrain.engines.lightning.evaluate import predict as run_predict
    from litrain.reliability.oom import one_line_oom
    from litrain.run.lock import holding, writes_inside
    from litrain.run.restore import eval_setup

    if mc_samples is not None:
        from litrain.trained.mc_dropout import check_samples

        check_samples(mc_samples)
    ens = _ensemble_dir(run_dir, config_or_path, checkpoint)
    if ens is not None and mc_samples:
        raise ConfigError(f"{ens} is an ensemble: its members' spread is its uncertainty; drop --mc-samples")
    if ens is not None:  # the pooled members, with their uncertainty per sample
        from litrain.trained.ensemble_eval import predict_ensemble

        out = Path(output) if output else ens / "predictions.csv"
        with holding(ens) if writes_inside(ens, out) else nullcontext():
            written = predict_ensemble(ens, out, split)
        return RunResult({}, ens, as_config(None, {}), best_checkpoint="ensemble", output=written)
    cfg, rd, ckpt_path = eval_setup(config_or_path, checkpoint, run_dir, overrides)
    out = Path(output) if output else rd / "predictions.csv"
    lock = holding(rd) if writes_inside(rd, out) else nullcontext()
    with lock, one_line_oom(cfg.data.batch_size, cfg.trainer.oom_recovery, "predict"):
        parts, out = run_predict(cfg, ckpt_path, rd, out, split, quiet, mc_samples)
    return RunResult({}, rd, parts.config, best_checkpoint=str(ckpt_path), output=out)


def shard(
    config_or_path: ConfigSource = None,
    *,
    output: str | Path,
    format: str = "webdataset",
    shard_size: int | None = None,
    max_shard_bytes: int | None = None,
    quality: int = 95,
    workers: int = 0,
    upload_only: bool = False,
    **overrides: Any,
) -> dict[str, SplitResult]:
    """Write the data source's splits as shards to ``output`` (a dir or an fsspec URL):
    WebDataset tars with a ``<split>.index.json`` each, or LitData chunks (``format="litdata"``).
    Returns per split the index and the shards this call wrote."""
    from litrain.data.shards.write import ShardOptions, write_shards

    cfg = as_config(config_or_path, overrides)
    opts = ShardOptions(
        str(output),
        format,
        shard_size,
        max_shard_bytes,
        quality,
        workers,
        upload_only,
        cfg.data.storage_options,
    )
    return write_shards(cfg.data, opts)


def export(
    checkpoint: str = "best",
    *,
    run_dir: str | Path | None = None,
    output: str | Path | None = None,
    format: str = "safetensors",
    **options: Any,
) -> Path:
    """Export a checkpoint (``best``/``last`` of ``run_dir``, or a file) in ``format``, a
    name of :data:`litrain.registry.EXPORTS`; returns the file written (default: beside the
    checkpoint). ``onnx`` and ``pt2`` pass a numeric gate against the PyTorch model first
    (``options``: the fields of :class:`litrain.export.options.ExportOptions`, e.g.
    ``int8="ort-static"``, ``min_agreement=0.99``, ``keep_failed=True``); a failing artefact
    raises :class:`litrain.export.gate.GateFailed` with its numbers (docs/export.md)."""
    from litrain.export.options import ExportOptions
    from litrain.registry import EXPORTS

    opts = ExportOptions(**options)
    path: Path = EXPORTS.get(format)(checkpoint, run_dir, output, opts)
    return path


def report(*runs: str | Path, output: str | Path | None = None) -> Path:
    """One self-contained offline HTML page for a run dir (several: a comparison page);
    returns its path (default: ``<run>/report.html``, ``./report.html`` for several).
    Reads the run dirs' files only (docs/report.md)."""
    from litrain.report import build_report

    return build_report(list(runs), output)


def load(
    run_dir_or_checkpoint: str | Path, *, checkpoint: str = "best", device: str = "cpu"
) -> TrainedRun | Calibrated | Ensemble:
    """A trained model back, without its training data: a run dir (its ``checkpoint``: best
    or last), a checkpoint file or a pipeline dir -> ``TrainedRun`` with ``.model`` (eval
    mode), ``.task``, ``.config``, ``.card`` and ``.predict(inputs)``, which takes raw inputs
    as the data source reads them (e.g. sklearn digits (N, 64) in 0-16), preprocesses them as
    training did (the source's scaling, resize, the training split's normalization) and
    returns the task's predictions."""
    from litrain.trained.calibrated import with_calibration

    # a run calibrated with `litrain calibrate` comes back with its temperature
    from litrain.trained.ensemble import ENSEMBLE_FILE, Ensemble
    from litrain.trained.run import TrainedRun

    if (Path(run_dir_or_checkpoint) / ENSEMBLE_FILE).is_file():  # an ensemble's dir
        return Ensemble.open(run_dir_or_checkpoint, device=device)
    from litrain.trained.ensemble_fit import unfinished

    unfinished(run_dir_or_checkpoint)  # a model.ensemble fit stopped before pooling: one line
    run = TrainedRun.open(run_dir_or_checkpoint, checkpoint, device=device)
    return with_calibration(run, run_dir_or_checkpoint)


def ensemble(runs: list[str | Path], *, output: str | Path, combine: str = "mean_prob") -> Path:
    """An ensemble of separately trained classification runs (same task, classes and input
    kind, else one line naming both): writes ``output/ensemble.json``; ``litrain.load(output)``
    then pools the members' class probabilities."""
    from litrain.trained.ensemble import build_ensemble

    return build_ensemble(list(runs), output, combine)


def calibrate(run_dir: str | Path, *, checkpoint: str = "best") -> dict[str, Any]:
    """Fit temperature scaling (LBFGS on the validation NLL) for a classification run's
    ``checkpoint`` and write ``calibration.json`` in its run dir; ``litrain.load`` then
    returns the calibrated model. Returns the record (temperature, val NLL/ECE before and
    after)."""
    from litrain.trained.calibrated import calibrate_run

    _, record, path = calibrate_run(run_dir, checkpoint)
    return {**record, "path": str(path)}


def _engine(cfg: Config) -> Engine:
    engine: Engine = ENGINES.get(cfg.run.engine)()
    return engine


def pipeline(
    config_or_path: ConfigSource = None,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    **overrides: Any,
) -> PipelineResult:
    """Train every stage of the config's ``stages:`` in order into ``<run_dir>/<stage>/``
    and write ``<run_dir>/pipeline.json``. Rerun with the same run dir to continue: finished
    stages are skipped, an interrupted one resumes. ``resume="last"`` picks the newest
    pipeline under runs/<name>/; keyword overrides apply to every stage."""
    from litrain.config import kwargs_to_overrides
    from litrain.run.pipeline import run_pipeline

    cfg = as_config(config_or_path, overrides)
    flags = kwargs_to_overrides(overrides)
    return run_pipeline(cfg, flags, _engine, run_dir=run_dir, resume=resume, overwrite=overwrite, quiet=quiet)


def sweep(
    config_or_path: ConfigSource = None,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    storage: str | None = None,
    study: str | None = None,
    workers: int = 1,
    **overrides: Any,
) -> SweepResult:
    """Search the config's ``sweep:`` space with Optuna: each trial a run in
    ``<run_dir>/trial-NNNN``, the study in ``storage`` (default ``<run_dir>/study.journal``),
    ``workers`` trial processes; writes best.yaml, study.json and trials.csv. Rerun with the
    same run dir to continue a stopped sweep (docs/sweeps.md)."""
    from litrain.sweep.run import run_sweep

    cfg = as_config(config_or_path, overrides)
    return run_sweep(
        cfg,
        run_dir=run_dir,
        resume=resume,
        overwrite=overwrite,
        quiet=quiet,
        storage=storage,
        study=study,
        workers=workers,
    )
