"""The Python API: ``fit``, ``validate``, ``test``, ``predict``, ``tune_lr``, ``load``. The CLI calls
exactly these. Each is a few lines: a config, then the shared lifecycle with the chosen
engine (fit) or the Lightning engine's evaluation (validate/test/predict)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from litrain.registry import ENGINES
from litrain.run.config_source import ConfigSource, as_config
from litrain.run.result import RunResult

if TYPE_CHECKING:
    from litrain.run.loaded import LoadedModel

__all__ = ["ConfigSource", "RunResult", "as_config", "fit", "load", "predict", "test", "tune_lr", "validate"]


def fit(
    config_or_path: ConfigSource = None,
    *,
    run_dir: str | Path | None = None,
    resume: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    **overrides: Any,
) -> RunResult:
    """Train. ``resume`` is ``last`` (newest checkpoint of the run dir) or a path."""
    from litrain.run.lifecycle import fit_run

    cfg = as_config(config_or_path, overrides)
    if resume and config_or_path is None:
        from litrain.run.rundir import resumed_config

        cfg = resumed_config(cfg, run_dir, resume, overrides)  # the run's engine too
    engine = ENGINES.get(cfg.run.engine)()
    return fit_run(cfg, engine, run_dir=run_dir, resume=resume, overwrite=overwrite, quiet=quiet)


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


def _evaluate(
    stage: str,
    config_or_path: ConfigSource,
    checkpoint: str,
    run_dir: Any,
    quiet: bool,
    overrides: dict[str, Any],
) -> RunResult:
    from litrain.engines.lightning.evaluate import evaluate
    from litrain.run.restore import eval_setup

    cfg, rd, ckpt_path = eval_setup(config_or_path, checkpoint, run_dir, overrides)
    metrics, parts = evaluate(stage, cfg, ckpt_path, rd, quiet)
    return RunResult(metrics, rd, parts.config, best_checkpoint=str(ckpt_path))


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
    **overrides: Any,
) -> RunResult:
    """Write the task's predictions file (classification: predictions.csv with index,
    target, pred, then one probability column per class)."""
    from litrain.engines.lightning.evaluate import predict as run_predict
    from litrain.run.restore import eval_setup

    cfg, rd, ckpt_path = eval_setup(config_or_path, checkpoint, run_dir, overrides)
    out = Path(output) if output else rd / "predictions.csv"
    parts, out = run_predict(cfg, ckpt_path, rd, out, split, quiet)
    return RunResult({}, rd, parts.config, best_checkpoint=str(ckpt_path), output=out)


def load(run_dir_or_checkpoint: str | Path, *, device: str = "cpu") -> LoadedModel:
    """A trained model back: a run dir (its best checkpoint) or a checkpoint file ->
    ``LoadedModel`` with ``.model`` (eval mode), ``.task``, ``.config`` and
    ``.predict(inputs)``, which preprocesses raw inputs as training did (resize, the
    training split's normalization) and returns the task's predictions."""
    from litrain.run.loaded import load as load_run

    return load_run(run_dir_or_checkpoint, device=device)
