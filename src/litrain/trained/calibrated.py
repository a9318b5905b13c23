"""``Calibrated``: a Predictor whose outputs are the wrapped predictor's logits divided by a
fitted temperature (a buffer, so ``state_dict``, ``.to(device)``, Lightning test and export
carry it). :func:`calibrate` fits it on the validation split; the run dir keeps the result in
``calibration.json`` so ``litrain.load`` gives the calibrated model back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from litrain.core.atomic import atomic_write_json
from litrain.errors import ConfigError
from litrain.tasks import uncertainty as U
from litrain.tasks.classification_files import save_reliability
from litrain.trained.outputs import outputs_on
from litrain.trained.temperature import fit_temperature, scaled_nll

CALIBRATION_FILE = "calibration.json"
CLASSIFICATION = ("classification", "binary", "multilabel")


class NoValidationSplit(ConfigError):
    """The run's data has no validation split to fit a temperature on."""


def task_mode(task: Any) -> str:
    """multiclass, binary or multilabel for a classification task; refuses any other."""
    mode = getattr(task, "mode", None)
    if mode not in ("multiclass", "binary", "multilabel"):
        kind = getattr(getattr(task, "config", None), "type", None) or "this"
        raise ConfigError(
            f"calibration scales classification logits, and task.type={kind} is not a single "
            "classification task (multi-task heads are not calibrated yet)"
        )
    return str(mode)


class Calibrated(nn.Module):
    """``inner`` (a Predictor) with its logits divided by ``temperature``: shape () for
    multiclass, (K,) per output for binary and multilabel."""

    def __init__(self, inner: nn.Module, temperature: Tensor) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("temperature", temperature.detach().float().clone())

    @property
    def task(self) -> Any:
        return self.inner.task

    @property
    def card(self) -> dict[str, Any] | None:
        return self.inner.card

    def __getattr__(self, name: str) -> Any:  # config, info, class_names, ... of the run
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("inner"), name)

    def forward(self, x: Any) -> Tensor:
        return self.inner(x) / self.temperature

    @torch.no_grad()
    def outputs(self, inputs: Any, batch_size: int | None = None) -> Tensor:
        return self.inner.outputs(inputs, batch_size) / self.temperature.cpu()

    @torch.no_grad()
    def predict(self, inputs: Any, batch_size: int | None = None) -> Tensor:
        return self.task.prediction(self.outputs(inputs, batch_size)).float().cpu()


def calibrate(predictor: nn.Module, datamodule: Any) -> tuple[Calibrated, dict[str, Any]]:
    """Fit a temperature on ``datamodule``'s validation split -> (the calibrated predictor, a
    record with the temperature and the validation NLL before and after); ``.val_curves`` on the predictor
    holds the validation split's reliability diagram before and after."""
    mode = task_mode(predictor.task)
    if getattr(datamodule, "val_set", True) is None or _empty(datamodule):
        raise NoValidationSplit(
            "calibration fits a temperature on the validation split, and this run's data has "
            "none: set data.val_split (e.g. 0.1) or give the source a val split"
        )
    logits, targets = outputs_on(predictor, datamodule, "val")
    if targets is None:
        raise ConfigError("calibration needs targets in the validation split, and its batches carry none")
    temperature = fit_temperature(logits, targets, mode)
    before = scaled_nll(logits, targets, mode, torch.ones_like(temperature))
    after = scaled_nll(logits, targets, mode, temperature)
    record = {
        "method": "temperature",
        "mode": mode,
        "temperature": temperature.tolist(),
        "val_samples": len(logits),
        "val_nll_before": float(before),
        "val_nll_after": float(after),
        "val_ece_before": float(U.calibration_error(_metric_probs(logits, mode), targets, mode)),
        "val_ece_after": float(U.calibration_error(_metric_probs(logits / temperature, mode), targets, mode)),
    }
    calibrated = Calibrated(predictor, temperature)
    calibrated.val_curves = val_curves(record, logits, targets, mode)  # the diagram calibrate_run draws
    return calibrated, record


def val_curves(record: dict[str, Any], logits: Tensor, targets: Tensor, mode: str) -> dict[str, dict]:
    """The reliability diagram of the validation split before and after the temperature."""
    temperature = torch.tensor(record["temperature"])
    return {
        "before": U.reliability_bins(_metric_probs(logits, mode), targets, mode),
        "after": U.reliability_bins(_metric_probs(logits / temperature, mode), targets, mode),
    }


def _metric_probs(logits: Tensor, mode: str) -> Tensor:
    if mode == "multiclass":
        return logits.softmax(-1)
    return logits.sigmoid().reshape(len(logits), -1).squeeze(-1) if mode == "binary" else logits.sigmoid()


def _empty(datamodule: Any) -> bool:
    val = getattr(datamodule, "val_set", None)
    try:
        return val is not None and len(val) == 0
    except TypeError:  # a streamed split has no length: outputs_on tells if it is empty
        return False


def save_calibration(run_dir: Path, record: dict[str, Any], checkpoint: Path) -> Path:
    """Write ``calibration.json`` in ``run_dir`` naming the checkpoint it was fitted for."""
    path = Path(run_dir) / CALIBRATION_FILE
    atomic_write_json(path, {**record, "checkpoint": checkpoint.name})
    return path


def read_calibration(run_dir: Path, checkpoint: Path) -> Tensor | None:
    """The temperature fitted for ``checkpoint`` in ``run_dir``, or None (none fitted, or
    fitted for another checkpoint: a temperature belongs to the weights it was fitted on)."""
    path = Path(run_dir) / CALIBRATION_FILE
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if record.get("checkpoint") != checkpoint.name:
        return None
    return torch.tensor(record["temperature"], dtype=torch.float32)


def calibrate_run(source: str | Path, which: str = "best") -> tuple[Calibrated, dict[str, Any], Path]:
    """Open the run ``source`` (its ``which`` checkpoint), rebuild its data, fit the
    temperature on the validation split and write ``calibration.json`` in the run dir ->
    (calibrated predictor, record, path of the file)."""
    from litrain.data.datamodule import build_datamodule
    from litrain.trained.run import TrainedRun

    run = TrainedRun.open(source, which)
    task_mode(run.task)  # refuse a non-classification run before reading any data
    cfg = run.config
    dm = build_datamodule(cfg.data, cfg.task, cfg.run.seed)
    dm.setup("fit")
    calibrated, record = calibrate(run, dm)
    run_dir = _run_dir(source, run.checkpoint)
    path = save_calibration(run_dir, record, run.checkpoint)
    save_reliability(calibrated.val_curves, run_dir, "reliability_val")
    return calibrated, record, path


def _run_dir(source: str | Path, checkpoint: Path) -> Path:
    """The run dir the user named (a copied or moved run keeps its own file), else the one
    the checkpoint file lies in."""
    from litrain.trained.run import run_dir_of

    given = Path(source).expanduser()
    return given if (given / "config.yaml").is_file() else run_dir_of(checkpoint)


def with_calibration(run: Any, source: str | Path) -> Any:
    """``run`` (a TrainedRun opened from ``source``) wrapped in its run dir's fitted
    temperature, if there is one."""
    temperature = read_calibration(_run_dir(source, run.checkpoint), run.checkpoint)
    if temperature is None:
        return run
    param = next(run.parameters(), None)
    return Calibrated(run, temperature).to(param.device if param is not None else "cpu")


def calibrate_after_fit(run_dir: Path, cfg: Any, best_checkpoint: str | None) -> dict[str, Any] | None:
    """``task.calibrate: auto``: calibrate a finished classification run (rank 0 only; a run
    without a validation split or without a checkpoint is left as it is) -> the record."""
    import os

    if cfg.task.calibrate != "auto" or cfg.task.type not in CLASSIFICATION or best_checkpoint is None:
        return None
    if os.environ.get("RANK", "0") != "0" or os.environ.get("LOCAL_RANK", "0") != "0":
        return None
    try:
        _, record, path = calibrate_run(run_dir, "best")
    except NoValidationSplit:
        return None
    return {**record, "path": str(path)}
