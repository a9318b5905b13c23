"""validate, test and predict with the Lightning engine: the run opened through
``litrain.trained`` (the checkpoint's weights for evaluation: its EMA weights with
``trainer.ema.use_for_eval``), then one Trainer call (validate, test) or the engine-neutral
``outputs_on`` pass (predict); results in the run dir. Native and safetensors checkpoints load
too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities.model_helpers import is_overridden

from litrain.config import Config
from litrain.core.noise import note
from litrain.core.rng import seed_everything
from litrain.engines.lightning.loaders import trainer_loaders
from litrain.engines.lightning.module import TaskModule, build_module
from litrain.engines.lightning.trainer import build_trainer
from litrain.errors import ConfigError
from litrain.launch.environment import for_evaluation
from litrain.models.factory import check_forward
from litrain.run.parts import Parts, build_parts, output_shapes
from litrain.run.report import tensor_dict_to_floats, write_json
from litrain.trained.calibrated import read_calibration
from litrain.trained.outputs import outputs_on
from litrain.trained.run import TrainedRun


def restore(cfg: Config, ckpt_path: Path, run_dir: Path, quiet: bool) -> tuple[Parts, Any, Any]:
    """(parts, module with the checkpoint's weights, trainer)."""
    cfg = for_evaluation(cfg, ckpt_path)
    seed_everything(cfg.run.seed)
    parts = build_parts(cfg)  # the data to evaluate on; the weights for evaluation below
    parts = TrainedRun.from_parts(parts, ckpt_path, "eval").parts
    module = build_module(parts)
    trainer = build_trainer(parts.config, run_dir, quiet, logger=False)
    return parts, module, trainer


def evaluate(stage: str, cfg: Config, ckpt_path: Path, run_dir: Path, quiet: bool) -> tuple[dict, Parts]:
    """Metrics of ``stage`` (validate or test); writes run_dir/<stage>_metrics.json and the
    task's artifacts (the confusion matrix for classification)."""
    parts, module, trainer = restore(cfg, ckpt_path, run_dir, quiet)
    run = trainer.validate if stage == "validate" else trainer.test
    # litrain prints the one table (with the checkpoint's name), not Lightning's as well
    results = run(module, verbose=False, **trainer_loaders(parts.datamodule, stage, trainer))
    metrics = tensor_dict_to_floats(results[0] if results else {})
    split = "val" if stage == "validate" or getattr(parts.datamodule, "test_is_val", False) else "test"
    if stage == "test" and split == "val":
        note(
            "this data has no test split, so these are the validation split's numbers: set "
            "data.test_split (or the source's test files) to hold out a test split",
            quiet,
        )
    if trainer.is_global_zero:
        record = {"checkpoint": str(ckpt_path), "split": split, "metrics": metrics}
        write_json(run_dir / f"{stage}_metrics.json", record)
    return metrics, parts


def predict(
    cfg: Config,
    ckpt_path: Path,
    run_dir: Path,
    out: Path,
    split: str,
    quiet: bool,
    mc_samples: int | None = None,
) -> tuple[Parts, Path]:
    """The task's predictions file for ``split`` (val or test; targets included), and the
    path the task wrote it to (``out``, or e.g. a .npy beside it for field predictions).
    ``mc_samples``: the mean of that many MC dropout passes, with their uncertainty columns."""
    parts, module, trainer = restore(cfg, ckpt_path, run_dir, quiet)
    dm, task = parts.datamodule, parts.task
    if task is None:
        raise ConfigError(
            "litrain predict writes a litrain task's predictions, and data.class_path gives none: "
            "use litrain's data sources, or call trainer.predict on your own module"
        )
    if mc_samples:
        return parts, _predict_mc(module, parts, ckpt_path, run_dir, out, split, mc_samples, trainer)
    if isinstance(module, TaskModule):  # litrain's model: the engine-neutral pass
        model_outputs, targets = outputs_on(module.to(trainer.strategy.root_device), dm, split)
        temperature = read_calibration(run_dir, ckpt_path)  # `litrain calibrate` fitted one
        if temperature is not None:
            model_outputs = model_outputs / temperature
        outputs = task.prediction(model_outputs).float()
    else:  # the user's LightningModule predicts through its own predict_step
        loader = dm.val_dataloader() if split == "val" else dm.test_dataloader()
        module = _predicting(module, parts)
        outputs = torch.cat(list(trainer.predict(module, dataloaders=loader))).float()
        targets = torch.cat([task.unpack(b)[1] for b in loader])
    names = parts.info.class_names if parts.info else [str(i) for i in range(outputs.shape[1])]
    written = task.write_predictions(out, outputs, targets, names)
    return parts, written if written is not None else out  # a task that returns no path wrote out


def _predict_mc(
    module: Any,
    parts: Parts,
    ckpt_path: Path,
    run_dir: Path,
    out: Path,
    split: str,
    samples: int,
    trainer: Any,
) -> Path:
    """predictions.csv of ``samples`` MC dropout passes: their mean probabilities (after the
    run's temperature, if calibrated), then the uncertainty columns of the passes."""
    from litrain.tasks import uncertainty as U
    from litrain.trained.calibrated import CLASSIFICATION
    from litrain.trained.mc_dropout import mc_outputs

    task = parts.task
    if not isinstance(module, TaskModule) or parts.config.task.type not in CLASSIFICATION:
        raise ConfigError(
            "--mc-samples predicts litrain's classification models (task.type classification, binary or multilabel)"
        )
    passes, targets = mc_outputs(
        module.to(trainer.strategy.root_device), parts.datamodule, split, samples, parts.config.run.seed
    )
    temperature = read_calibration(run_dir, ckpt_path)
    if temperature is not None:
        passes = passes / temperature
    members = torch.stack([task.prediction(p) for p in passes]).float()
    pooled = members.mean(0)
    extra = U.uncertainty_columns(members, mode=task.mode)
    names = parts.info.class_names if parts.info else [str(i) for i in range(pooled.shape[1])]
    return task.write_predictions(out, pooled, targets, names, extra=extra)


def _predicting(module: Any, parts: Parts) -> Any:
    """The module whose predict_step gives the task's predictions. A user's LightningModule
    with no predict_step of its own (Lightning's default calls ``forward`` on the whole
    ``(x, y)`` batch) predicts through TaskModule: its ``forward`` on the batch's inputs,
    checked on a tiny batch first so a forward that takes something else says what to add."""
    if isinstance(module, TaskModule) or is_overridden("predict_step", module, L.LightningModule):
        return module
    assert parts.task is not None and parts.info is not None
    name = type(module).__qualname__
    add = (
        f"add predict_step(self, batch, batch_idx) to {name} returning one row of logits per "
        "sample, or make its forward take the batch's inputs and return them"
    )
    try:
        shapes = output_shapes(parts.task)
        check_forward(module, name, parts.info.input_shape, parts.task.num_outputs, add, shapes)
    except ConfigError as exc:
        if "task needs" in str(exc):
            raise ConfigError(
                f"litrain predict: {name} has no predict_step and its forward on the inputs: {exc}"
            ) from None
        raise ConfigError(
            f"litrain predict: {name} has no predict_step and its forward fails on the batch's inputs: {add}"
        ) from None
    return TaskModule(module, parts.task, parts.config.optim, parts.config.to_dict())
