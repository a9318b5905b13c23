"""The Python API: ``fit``, ``validate``, ``test``, ``predict``, ``tune_lr``. The CLI calls
exactly these. Each step of a run is one line here: config, run dir, parts, trainer, go."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litrain.config import Config, kwargs_to_overrides, load_config
from litrain.errors import ConfigError


@dataclass
class RunResult:
    metrics: dict[str, float]
    run_dir: Path
    config: Config
    best_checkpoint: str | None = None
    last_checkpoint: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    output: Path | None = None  # predict: predictions.csv


ConfigSource = Config | str | Path | list[str | Path] | dict[str, Any] | None


def as_config(source: ConfigSource = None, overrides: dict[str, Any] | None = None) -> Config:
    """A Config from a Config, one or more YAML paths, or a nested dict; then overrides."""
    overrides = kwargs_to_overrides(overrides or {})
    if isinstance(source, Config):
        return load_config(base=source, overrides=overrides)
    if isinstance(source, dict):
        return load_config(base=source, overrides=overrides)
    files = [source] if isinstance(source, str | Path) else list(source or [])
    return load_config(files, overrides)


def _loaders(dm: Any, stage: str, trainer: Any = None) -> dict[str, Any]:
    from litrain.data.datamodule import DataModule

    if not isinstance(dm, DataModule):
        return {"datamodule": dm}
    if trainer is not None and trainer.world_size > 1:
        # Each rank reads its own share: evaluation without padding (every sample scored
        # once), training in the 1-process order (see data/sharding.py).
        from litrain.data.sharding import shard_loader

        seed = dm.seed
        if stage == "fit":
            return {
                "train_dataloaders": shard_loader(dm.train_dataloader(), True, seed),
                "val_dataloaders": shard_loader(dm.val_dataloader(), False, seed),
            }
        loader = dm.val_dataloader() if stage == "validate" else dm.test_dataloader()
        return {"dataloaders": shard_loader(loader, False, seed)}
    if stage == "fit":
        return {"train_dataloaders": dm.train_dataloader(), "val_dataloaders": dm.val_dataloader()}
    loader = dm.val_dataloader() if stage == "validate" else dm.test_dataloader()
    return {"dataloaders": loader}


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
    cfg = as_config(config_or_path, overrides)
    if resume and config_or_path is None:
        from litrain.run.rundir import resumed_config

        cfg = resumed_config(cfg, run_dir, resume, overrides)  # the run's engine too
    if cfg.run.engine == "native":
        from litrain.engines.native.fit import fit_native

        return fit_native(
            cfg,
            run_dir=run_dir,
            resume=resume,
            overwrite=overwrite,
            quiet=quiet,
        )
    import lightning as L

    from litrain.checkpoint.load import check_fits, load_checkpoint
    from litrain.core.hardware import resolve_accelerator
    from litrain.engines.lightning.trainer import build_trainer
    from litrain.launch.environment import agree_run_dir, is_global_zero, wants_fsdp
    from litrain.run.parts import build_module, build_parts
    from litrain.run.rundir import choose_run_dir, resolve_checkpoint

    # Under a multi-process launch only rank 0 chooses (and checks) the run dir.
    out_dir = agree_run_dir(
        lambda: choose_run_dir(cfg, run_dir, resume, overwrite),
        cfg,
        resolve_accelerator(cfg.trainer.accelerator),
    )
    L.seed_everything(cfg.run.seed, workers=True, verbose=False)
    parts = build_parts(cfg)
    cfg = parts.config
    module = build_module(parts)
    if wants_fsdp(cfg.trainer) and resolve_accelerator(cfg.trainer.accelerator) == "cpu":
        from litrain.engines.lightning.fsdp import as_fsdp2_module

        module = as_fsdp2_module(module, cfg.trainer)
    if cfg.trainer.compile and hasattr(module, "model"):
        from litrain.core.compile import compile_model  # in place: checkpoint keys unchanged

        compile_model(module.model, True)
    trainer = build_trainer(cfg, out_dir, quiet)
    if trainer.world_size == 1 and hasattr(parts.datamodule, "loader_device"):
        parts.datamodule.loader_device = trainer.strategy.root_device  # in-memory batches there
    ckpt_path = None
    if resume:
        ckpt_path = resolve_checkpoint(resume, cfg, out_dir)
        import tempfile

        from litrain.checkpoint.convert import as_lightning_file  # a native checkpoint resumes here too

        if not (ckpt_path / ".metadata").is_file():  # FSDP shards: the strategy loads them
            ckpt_path = as_lightning_file(ckpt_path, Path(tempfile.mkdtemp(prefix="litrain-resume-")))
            check_fits(load_checkpoint(ckpt_path), module, ckpt_path)
    if cfg.optim.lr == "auto" and not ckpt_path:
        lr = _find_lr(trainer, module, parts.datamodule, out_dir)
        cfg = cfg.model_copy(update={"optim": cfg.optim.model_copy(update={"lr": lr})})
        module.lr = lr
    if is_global_zero():
        cfg.save(out_dir / "config.yaml")
        from litrain.checkpoint.store import clean_stale_temps
        from litrain.run.rundir import checkpoint_dir

        clean_stale_temps(checkpoint_dir(cfg, out_dir))  # left by a run killed mid-write
    start = time.perf_counter()
    loaders = _loaders(parts.datamodule, "fit", trainer)
    if "train_dataloaders" in loaders:  # mid-epoch resume needs the loader's position
        from litrain.data.resumable import make_resumable

        loaders["train_dataloaders"] = make_resumable(loaders["train_dataloaders"])
    from litrain.reliability.preemption import Preempted

    try:
        trainer.fit(module, ckpt_path=ckpt_path, weights_only=True, **loaders)
    except Preempted as stop:
        return preempted_result(stop, out_dir, cfg)
    return _finish_fit(trainer, cfg, out_dir, time.perf_counter() - start)


def preempted_result(stop: Any, run_dir: Path, cfg: Config) -> RunResult:
    """The result of a run stopped by a preemption signal (the CLI then exits with
    ``litrain.reliability.preemption.REQUEUE_EXIT_CODE``); both engines return it."""
    summary = {
        "preempted": True,
        "signal": stop.signame,
        "steps": stop.step,
        "last_checkpoint": str(stop.checkpoint),
    }
    return RunResult({}, run_dir, cfg, last_checkpoint=str(stop.checkpoint), summary=summary)


def _finish_fit(trainer: Any, cfg: Config, run_dir: Path, wall: float) -> RunResult:
    import json

    from litrain.core.versions import versions
    from litrain.run.report import epoch_metrics, write_json

    ck = trainer.checkpoint_callback
    best = ck.best_model_path if ck and ck.best_model_path else None
    last = ck.last_model_path if ck and ck.last_model_path else None
    metrics = epoch_metrics(trainer.callback_metrics)
    summary_path = run_dir / "summary.json"
    if not metrics and summary_path.is_file():  # resumed a finished run: nothing new ran
        metrics = json.loads(summary_path.read_text()).get("metrics", {})
    score = ck.best_model_score if ck else None
    summary = {
        "engine": "lightning",
        "metrics": metrics,
        "best_metric": float(score) if score is not None else None,
        "monitor": cfg.checkpoint.monitor,
        "best_checkpoint": best,
        "last_checkpoint": last,
        "epochs": trainer.current_epoch,
        "steps": trainer.global_step,
        "wall_time_s": round(wall, 3),
        "versions": versions(),
    }
    if trainer.is_global_zero:
        write_json(summary_path, summary)
    return RunResult(metrics, run_dir, cfg, best, last, summary)


def _find_lr(trainer: Any, module: Any, dm: Any, run_dir: Path) -> float:
    from lightning.pytorch.tuner import Tuner

    # The finder takes 100 steps, which may span several short epochs: lift max_epochs
    # while it runs, or a 1-epoch config would cut the sweep short and skew the suggestion.
    epochs = trainer.fit_loop.max_epochs
    trainer.fit_loop.max_epochs = max(epochs or 1, 1000)
    try:
        finder = Tuner(trainer).lr_find(module, update_attr=False, **_loaders(dm, "fit"))
    finally:
        trainer.fit_loop.max_epochs = epochs
    if finder is None or finder.suggestion() is None:
        raise ConfigError("the LR finder found no usable learning rate: set optim.lr to a number")
    (run_dir / "plots").mkdir(parents=True, exist_ok=True)
    fig = finder.plot(suggest=True)
    fig.savefig(run_dir / "plots" / "lr_finder.png", dpi=80)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return float(finder.suggestion())


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
    import lightning as L

    from litrain.engines.lightning.trainer import build_trainer
    from litrain.run.parts import build_module, build_parts
    from litrain.run.rundir import choose_run_dir

    cfg = as_config(config_or_path, overrides)
    out_dir = choose_run_dir(cfg, run_dir, None, overwrite)
    L.seed_everything(cfg.run.seed, workers=True, verbose=False)
    parts = build_parts(cfg)
    module = build_module(parts)
    trainer = build_trainer(parts.config, out_dir, quiet, logger=False)
    lr = _find_lr(trainer, module, parts.datamodule, out_dir)
    cfg = parts.config.model_copy(update={"optim": parts.config.optim.model_copy(update={"lr": lr})})
    cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"dir": None})})
    cfg.save(out_dir / "config.yaml")
    return RunResult({"lr": lr}, out_dir, cfg)


def _eval_setup(
    config_or_path: ConfigSource, checkpoint: str, run_dir: str | Path | None, overrides: dict[str, Any]
) -> tuple[Config, Path, Path]:
    """(config, run dir, checkpoint file) for validate/test/predict. The config comes from the
    argument, else the run dir's config.yaml, else the one stored in the checkpoint."""
    from litrain.checkpoint.load import config_from_checkpoint, load_checkpoint
    from litrain.run.rundir import resolve_checkpoint

    rd = Path(run_dir) if run_dir else None
    if config_or_path is not None:
        cfg = as_config(config_or_path, overrides)
    elif rd is not None and (rd / "config.yaml").is_file():
        cfg = as_config(rd / "config.yaml", overrides)
    elif checkpoint not in ("best", "last"):
        stored = config_from_checkpoint(load_checkpoint(checkpoint))
        if stored is None:
            raise ConfigError(f"{checkpoint} holds no litrain config: pass --config")
        cfg = as_config(stored, overrides)
    else:
        raise ConfigError(f"--ckpt {checkpoint} needs --run-dir DIR (or pass a checkpoint path)")
    ckpt = resolve_checkpoint(checkpoint, cfg, rd)
    if rd is None:  # write results beside the run the checkpoint came from
        rd = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent
    return cfg, rd, ckpt


def _restore(
    config_or_path: ConfigSource, checkpoint: str, run_dir: Any, quiet: bool, overrides: dict[str, Any]
) -> tuple[Any, Any, Any, Path, Path]:
    """(parts, module with the checkpoint's weights, trainer, run dir, checkpoint path) for
    validate/test/predict. Native and safetensors checkpoints load too."""
    import lightning as L

    from litrain.checkpoint.convert import read_any, to_lightning
    from litrain.checkpoint.load import check_fits
    from litrain.engines.lightning.trainer import build_trainer
    from litrain.launch.environment import for_evaluation
    from litrain.run.parts import build_module, build_parts

    cfg, rd, ckpt_path = _eval_setup(config_or_path, checkpoint, run_dir, overrides)
    cfg = for_evaluation(cfg, ckpt_path)
    L.seed_everything(cfg.run.seed, workers=True, verbose=False)
    parts = build_parts(cfg)
    module = build_module(parts)
    ckpt = to_lightning(read_any(ckpt_path))
    check_fits(ckpt, module, ckpt_path)
    module.load_state_dict(ckpt["state_dict"])
    trainer = build_trainer(parts.config, rd, quiet, logger=False)
    return parts, module, trainer, rd, ckpt_path


def _evaluate(
    stage: str,
    config_or_path: ConfigSource,
    checkpoint: str,
    run_dir: Any,
    quiet: bool,
    overrides: dict[str, Any],
) -> RunResult:
    from litrain.run.report import tensor_dict_to_floats, write_json

    parts, module, trainer, rd, ckpt_path = _restore(config_or_path, checkpoint, run_dir, quiet, overrides)
    run = trainer.validate if stage == "validate" else trainer.test
    results = run(module, verbose=not quiet, **_loaders(parts.datamodule, stage, trainer))
    metrics = tensor_dict_to_floats(results[0] if results else {})
    if trainer.is_global_zero:
        write_json(rd / f"{stage}_metrics.json", {"checkpoint": str(ckpt_path), "metrics": metrics})
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
    """Evaluate a checkpoint on the test split; writes test_metrics.json and the confusion
    matrix (CSV + PNG)."""
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
    """Write predictions.csv: index, target, pred, then one probability column per class."""
    import torch

    parts, module, trainer, rd, ckpt_path = _restore(config_or_path, checkpoint, run_dir, quiet, overrides)
    dm = parts.datamodule
    loader = dm.val_dataloader() if split == "val" else dm.test_dataloader()
    batches = trainer.predict(module, dataloaders=loader)
    probs = torch.cat([b for b in batches]).float()
    targets = torch.cat([y for _, y in loader]) if split in ("val", "test") else None
    out = Path(output) if output else rd / "predictions.csv"
    names = parts.info.class_names if parts.info else [str(i) for i in range(probs.shape[1])]
    write_predictions(out, probs, targets, names, parts.task)
    return RunResult({}, rd, parts.config, best_checkpoint=str(ckpt_path), output=out)


def write_predictions(path: Path, probs: Any, targets: Any, names: list[str], task: Any) -> None:
    multilabel = task is not None and task.mode == "multilabel"
    preds = task.decide(probs) if task is not None else probs.argmax(1)
    header = ["index", "target", "pred"] + [f"prob_{n}" for n in names[: probs.shape[1]]]
    lines = [",".join(header)]
    for i in range(len(probs)):
        if multilabel:
            pred = ";".join(str(j) for j in preds[i].nonzero().flatten().tolist())
            target = (
                ";".join(str(j) for j in targets[i].nonzero().flatten().tolist())
                if targets is not None
                else ""
            )
        else:
            pred = str(int(preds[i]))
            target = str(int(targets[i])) if targets is not None else ""
        lines.append(",".join([str(i), target, pred] + [f"{p:.6f}" for p in probs[i].tolist()]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
