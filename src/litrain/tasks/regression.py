"""Regression (``task.type: regression``): real-valued targets of any shape.

Targets (``DataInfo.target_shape``, one sample; layout in ``litrain.data.targets``): a
scalar ``()``, a vector ``(K,)`` or a field ``(C, L)``, ``(C, H, W)``, ``(T, C, H, W)``.

Output shape rule, the contract with every model (built-in, timm, ``model.class_path``):
- scalar/vector: ``num_outputs = prod(target_shape)`` (1 for a scalar); the model gives
  (N, num_outputs), reshaped to (N, *target_shape).
- field: ``num_outputs`` is the number of output channels of a field model (fno, unet):
  C, or T*C for a (T, C, H, W) rollout; the model gives (N, *target_shape), or
  (N, num_outputs, *spatial), or a flat (N, prod(target_shape)); each is reshaped to
  (N, *target_shape). Any other output is a ConfigError naming both shapes, raised by the
  forward check when the model is built (``output_shapes``), before training.

Loss: ``task.loss``, default ``mse`` for scalar/vector targets and ``rel_l2`` for fields;
the classification losses (ce, bce) are refused. With ``task.normalize_targets`` the model
learns (y - mean) / std with the training split's statistics: the loss is in those
normalised units, while every metric, ``prediction`` and the predictions files are in the
original units.

Metrics (torchmetrics, sum states: exact under DDP): scalar/vector ``mse``, ``rmse``,
``mae`` over every value and ``r2`` (a vector's R² is the uniform average over columns,
scikit-learn's ``r2_score`` default); fields ``mse``, ``mae``, ``nrmse``
(``regression_metrics.NRMSE``: per sample and channel, then averaged), ``rel_l2`` (one
global ratio) and, for C <= 8 channels, ``nrmse/ch0`` ... per channel.
Default monitor ``val/loss`` (min)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torchmetrics as tm
from torch import Tensor, nn

from litrain.config import TaskConfig
from litrain.data.base import DataInfo
from litrain.data.targets import channel_axis, target_kind
from litrain.errors import ConfigError
from litrain.registry import LOSSES
from litrain.tasks.base import TaskBase
from litrain.tasks.loss_terms import OperatorModel, TermSums, check_loss_terms, spectral_loss, term_names
from litrain.tasks.regression_metrics import NRMSE, RelativeL2

CLASSIFICATION_LOSSES = ("ce", "bce", "focal")
PER_CHANNEL_MAX = 8  # fields with at most this many channels log nrmse per channel


def regression_task(cfg: TaskConfig, info: DataInfo) -> RegressionTask:
    """The task for ``task.type: regression``, shaped by the data's targets. Integer labels
    are learnt as the numbers they are (a multilabel (N, K) 0/1 target as a K-vector)."""
    shape = tuple(info.target_shape)
    if info.multilabel and not shape:
        shape = (info.num_classes,)
    return RegressionTask(
        cfg,
        shape,
        info.target_mean,
        info.target_std,
        time_axis=info.time_axis,
        input_shape=tuple(info.input_shape),
        input_stats=(info.input_mean, info.input_std),
    )


class RegressionTask(TaskBase):
    """The Task protocol (``litrain.tasks.base``) for real-valued targets."""

    monitor = "val/loss"
    monitor_mode = "min"

    def __init__(
        self,
        cfg: TaskConfig,
        target_shape: tuple[int, ...],
        mean: Tensor | None = None,
        std: Tensor | None = None,
        *,
        time_axis: bool = False,
        input_shape: tuple[int, ...] = (),
        input_stats: tuple[Tensor | None, Tensor | None] = (None, None),
    ) -> None:
        self.target_shape = target_shape
        self.field = target_kind(target_shape) == "field"
        self.channel_axis = channel_axis(target_shape)
        loss = cfg.loss or ("rel_l2" if self.field else "mse")
        self._check_options(cfg, loss)
        self.config = cfg.model_copy(update={"loss": loss})  # config.yaml records the loss used
        self._loss = LOSSES.get(loss)(cfg)
        if cfg.normalize_targets and (mean is None or std is None):
            raise ConfigError("task.normalize_targets needs the data's target statistics: use litrain's data")
        self.mean, self.std = (mean, std) if cfg.normalize_targets else (None, None)
        self.terms, self.layout, self.input_stats = cfg.loss_terms, None, input_stats
        if self.terms is not None:  # litrain.tasks.loss_terms
            self.layout = check_loss_terms(cfg, target_shape, time_axis, input_shape)
            self.term_keys = term_names(cfg)
            self.sums = TermSums(len(self.term_keys))

    def _check_options(self, cfg: TaskConfig, loss: str) -> None:
        if loss in CLASSIFICATION_LOSSES:
            raise ConfigError(
                f"task.loss={loss} is a classification loss and task.type=regression learns real "
                "numbers: drop task.loss (default mse, rel_l2 for fields) or pick mse, l1, huber, "
                "smooth_l1, rel_l2, h1"
            )
        if cfg.pos_weight is not None or cfg.label_smoothing or cfg.class_weights is not None:
            raise ConfigError(
                "task.pos_weight, task.class_weights and task.label_smoothing apply to class labels: "
                "drop them for task.type=regression"
            )
        spatial = len(self.target_shape) - self.channel_axis - 1
        if loss == "h1" and not (self.field and spatial in (1, 2)):
            raise ConfigError(
                f"task.loss=h1 needs 1-D or 2-D field targets, but one target has shape "
                f"{self.target_shape}: use mse or rel_l2"
            )

    @property
    def num_outputs(self) -> int:
        if self.layout is not None:  # a rollout: the model gives one step's state channels
            return self.layout[1]
        if self.field:
            return math.prod(self.target_shape[: self.channel_axis + 1])
        return math.prod(self.target_shape)

    @property
    def output_shapes(self) -> list[tuple[int, ...]]:
        """The per-sample model outputs this task takes (reshaped to the target's shape);
        the first is the one error messages name."""
        flat = (math.prod(self.target_shape),)
        if self.layout is not None:
            return [(self.layout[1], *self.layout[2:])]
        if not self.field:
            return [(self.num_outputs,)]
        spatial = self.target_shape[self.channel_axis + 1 :]
        shapes = [self.target_shape, (self.num_outputs, *spatial), flat]
        return list(dict.fromkeys(shapes))  # unique, in order

    def unpack(self, batch: Any) -> tuple[Tensor, Tensor]:
        # integer labels are learnt as numbers; contiguous, as torchmetrics views targets flat
        return batch[0], batch[1].float().contiguous()

    def _shaped(self, outputs: Tensor) -> Tensor:
        """The model's outputs as (N, *target_shape), in fp32."""
        try:
            return outputs.float().reshape(len(outputs), *self.target_shape).contiguous()
        except RuntimeError:
            got = ", ".join(["N", *(str(d) for d in outputs.shape[1:])])
            need = ", ".join(["N", *(str(d) for d in self.target_shape)])
            raise ConfigError(f"the model gives ({got}) but the targets are ({need})") from None

    def _stats(self, like: Tensor) -> tuple[Tensor, Tensor]:
        assert self.mean is not None and self.std is not None
        return self.mean.to(like.device), self.std.to(like.device)

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        """The loss of ``task.loss``; with normalize_targets, in normalised units."""
        pred = self._shaped(outputs)
        if self.mean is not None:
            mean, std = self._stats(pred)
            targets = (targets.float() - mean) / std
        if self.terms is None:
            return self._loss(pred, targets)
        return self._term_loss(pred, targets.float())

    def _term_loss(self, pred: Tensor, targets: Tensor) -> Tensor:
        """The weighted sum of ``task.loss_terms`` (litrain.tasks.loss_terms); each term's
        value is added to the training epoch's sums."""
        assert self.terms is not None
        spatial = len(self.target_shape) - self.channel_axis - 1
        one_p, one_t = pred, targets
        values, weights = {}, {"forward": self.terms.forward, "spectral": self.terms.spectral}
        if self.layout is not None and self.terms.rollout is not None:
            p, t = pred.reshape(len(pred), *self.layout), targets.reshape(len(pred), *self.layout)
            one_p, one_t = p[:, 0], t[:, 0]
            steps = self.terms.rollout.steps
            values["rollout"] = torch.stack([self._loss(p[:, k], t[:, k]) for k in range(steps)]).mean()
            weights["rollout"] = self.terms.rollout.weight
            spatial = len(self.layout) - 2
        values["forward"] = self._loss(one_p, one_t)
        if "spectral" in self.term_keys:
            values["spectral"] = spectral_loss(one_p, one_t, spatial)
        stacked = torch.stack([values[k] for k in self.term_keys])
        if self.sums.training and torch.is_grad_enabled():  # training steps only
            self.sums.accumulate(stacked, len(pred))
        return sum(weights[k] * values[k] for k in self.term_keys)  # type: ignore[return-value]

    def wrap_model(self, model: nn.Module) -> nn.Module:
        """With loss terms: the model with the terms' sums (and the rollout) around it."""
        if self.terms is None:
            return model
        return OperatorModel(model, self.sums, self.layout, self.config.dt, *self.input_stats)

    def on_train_epoch_start(self, epoch: int) -> None:
        if self.terms is not None:
            self.sums.start_epoch(epoch)

    def epoch_values(self) -> dict[str, float]:
        """With loss terms: each term's mean over the training epoch (train/forward_loss, ...)."""
        if self.terms is None:
            return {}
        return {f"train/{k}_loss": v for k, v in zip(self.term_keys, self.sums.means(), strict=True)}

    def metric_inputs(self, outputs: Tensor) -> Tensor:
        """Predictions (N, *target_shape) in the targets' original units."""
        pred = self._shaped(outputs)
        if self.mean is not None:
            mean, std = self._stats(pred)
            pred = pred * std + mean
        return pred

    prediction = metric_inputs  # what predict collects: the predictions in original units

    def metrics(self, prefix: str) -> tm.MetricCollection:
        """See the module docstring for each metric's definition."""
        metrics: dict[str, tm.Metric] = {"mse": tm.MeanSquaredError(), "mae": tm.MeanAbsoluteError()}
        if self.field:
            channels = self.target_shape[self.channel_axis]
            metrics["nrmse"] = NRMSE(channels, self.channel_axis)
            metrics["rel_l2"] = RelativeL2()
            if channels <= PER_CHANNEL_MAX:
                for c in range(channels):
                    metrics[f"nrmse/ch{c}"] = NRMSE(channels, self.channel_axis, channel=c)
        else:
            metrics["rmse"] = tm.MeanSquaredError(squared=False)
            metrics["r2"] = tm.R2Score(multioutput="uniform_average")
        return tm.MetricCollection(metrics, prefix=prefix)

    def write_predictions(self, path: Path, predictions: Tensor, targets: Any, names: list[str]) -> Path:
        """predictions.csv for scalar/vector targets; predictions.npy + targets.npy for fields
        (``path`` with the suffix .npy; see regression_files)."""
        from litrain.tasks.regression_files import write_field_predictions, write_table_predictions

        if self.field:
            return write_field_predictions(path, predictions, targets)
        return write_table_predictions(path, predictions, targets)
