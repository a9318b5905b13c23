"""RegressionTask and its metrics: each metric equals its reference formula (NumPy or
scikit-learn) on the same predictions fed in several batches, as an epoch feeds them; the
output shape rule; normalised targets; the losses a regression task refuses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from litrain.config import TaskConfig
from litrain.data.targets import target_stats
from litrain.errors import ConfigError
from litrain.tasks.classification import ClassificationTask
from litrain.tasks.regression import RegressionTask
from litrain.tasks.regression_losses import EPS


def _task(shape: tuple[int, ...], mean=None, std=None, **kw) -> RegressionTask:
    return RegressionTask(TaskConfig(type="regression", **kw), shape, mean, std)


def _epoch(task: RegressionTask, preds: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    metrics = task.metrics("val/")
    for p, t in zip(preds.split(3), target.split(3), strict=True):  # uneven last batch
        metrics.update(p, t)
    return {k: float(v) for k, v in metrics.compute().items()}


def _pair(shape: tuple[int, ...], n: int = 10, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    target = torch.randn((n, *shape), generator=g) * 3 + 1
    return target + torch.randn((n, *shape), generator=g), target


def _nrmse_reference(pred: np.ndarray, true: np.ndarray, channel_axis: int) -> np.ndarray:
    """(C,) mean over samples of ||pred - true|| / ||true|| per sample and channel."""
    p = np.moveaxis(pred, 1 + channel_axis, 1).reshape(len(pred), pred.shape[1 + channel_axis], -1)
    t = np.moveaxis(true, 1 + channel_axis, 1).reshape(p.shape)
    ratio = np.linalg.norm(p - t, axis=2) / np.maximum(np.linalg.norm(t, axis=2), EPS)
    return ratio.mean(0)


@pytest.mark.parametrize("shape", [(), (3,)])
def test_scalar_and_vector_metrics_equal_scikit_learn(shape):
    pred, true = _pair(shape)
    got = _epoch(_task(shape), pred, true)
    p, t = pred.numpy().reshape(10, -1), true.numpy().reshape(10, -1)
    assert got["val/mse"] == pytest.approx(skm.mean_squared_error(t, p), rel=1e-5)
    assert got["val/rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(t, p)), rel=1e-5)
    assert got["val/mae"] == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-5)
    # a vector's R² is the uniform average over its columns, scikit-learn's default
    assert got["val/r2"] == pytest.approx(skm.r2_score(t, p, multioutput="uniform_average"), rel=1e-5)
    assert set(got) == {"val/mse", "val/rmse", "val/mae", "val/r2"}


@pytest.mark.parametrize(("shape", "channel_axis"), [((2, 16), 0), ((3, 4, 5), 0), ((4, 2, 3, 3), 1)])
def test_field_metrics_equal_their_definitions(shape, channel_axis):
    pred, true = _pair(shape)
    got = _epoch(_task(shape), pred, true)
    p, t = pred.numpy().astype(np.float64), true.numpy().astype(np.float64)
    per_channel = _nrmse_reference(p, t, channel_axis)
    assert got["val/nrmse"] == pytest.approx(per_channel.mean(), rel=1e-5)
    for c, value in enumerate(per_channel):
        assert got[f"val/nrmse/ch{c}"] == pytest.approx(value, rel=1e-5)
    rel_l2 = np.sqrt(((p - t) ** 2).sum()) / np.sqrt((t**2).sum())  # one ratio over the split
    assert got["val/rel_l2"] == pytest.approx(rel_l2, rel=1e-5)
    assert got["val/mse"] == pytest.approx(((p - t) ** 2).mean(), rel=1e-5)
    assert got["val/mae"] == pytest.approx(np.abs(p - t).mean(), rel=1e-5)


def test_per_channel_nrmse_only_up_to_8_channels():
    assert not any("/ch" in name for name in _task((9, 4)).metrics("val/").keys(keep_base=False))
    assert "val/nrmse/ch7" in _task((8, 4)).metrics("val/").keys(keep_base=False)


def test_nrmse_of_an_all_zero_target_channel_is_defined_and_finite():
    true = torch.zeros(4, 2, 8)
    true[:, 1] = torch.linspace(1, 2, 8)
    pred = true.clone()
    got = _epoch(_task((2, 8)), pred, true)  # exact predictions: 0, not 0/0
    assert got["val/nrmse/ch0"] == 0.0 and got["val/nrmse"] == 0.0
    pred[:, 0] = 1e-6  # off by 1e-6 everywhere on the all-zero channel: divided by EPS
    got = _epoch(_task((2, 8)), pred, true)
    assert np.isfinite(got["val/nrmse"])
    assert got["val/nrmse/ch0"] == pytest.approx(1e-6 * np.sqrt(8) / EPS, rel=1e-5)
    assert got["val/nrmse"] == pytest.approx(got["val/nrmse/ch0"] / 2, rel=1e-5)


@pytest.mark.parametrize(
    ("shape", "outputs", "accepted"),
    [
        ((), 1, [(1,)]),
        ((3,), 3, [(3,)]),
        ((2, 16), 2, [(2, 16), (32,)]),
        ((2, 4, 4), 2, [(2, 4, 4), (32,)]),
        ((3, 2, 4, 4), 6, [(3, 2, 4, 4), (6, 4, 4), (96,)]),
    ],
)
def test_outputs_follow_the_shape_rule_and_are_reshaped_to_the_target(shape, outputs, accepted):
    task = _task(shape)
    assert task.num_outputs == outputs and task.output_shapes == accepted
    for out_shape in accepted:
        flat = torch.arange(2 * int(np.prod(out_shape)), dtype=torch.float32).reshape(2, *out_shape)
        torch.testing.assert_close(task.metric_inputs(flat), flat.reshape(2, *shape))


def test_an_output_that_cannot_be_the_target_names_both_shapes():
    with pytest.raises(ConfigError, match=r"gives \(N, 5\) but the targets are \(N, 2, 16\)"):
        _task((2, 16)).loss(torch.zeros(4, 5), torch.zeros(4, 2, 16))


def test_default_losses_mse_for_vectors_and_rel_l2_for_fields():
    pred, true = _pair((2,))
    torch.testing.assert_close(_task((2,)).loss(pred, true), ((pred - true) ** 2).mean())
    pred, true = _pair((2, 8))
    rel = ((pred - true).flatten(1).norm(dim=1) / true.flatten(1).norm(dim=1)).mean()
    torch.testing.assert_close(_task((2, 8)).loss(pred, true), rel)


def test_target_stats_per_column_and_per_channel():
    _, y = _pair((3,), n=20)
    mean, std = target_stats(y)
    torch.testing.assert_close(mean, y.mean(0))
    torch.testing.assert_close(std, y.std(0, correction=0))
    _, field = _pair((3, 2, 2, 3), n=6)  # (T, C, H, W): statistics per channel C
    mean, std = target_stats(field)
    assert mean.shape == (1, 2, 1, 1)
    by_channel = field.transpose(0, 2).reshape(2, -1)
    torch.testing.assert_close(mean.flatten(), by_channel.mean(1))
    torch.testing.assert_close(std.flatten(), by_channel.std(1, correction=0))


def test_normalised_targets_loss_in_normalised_units_metrics_in_original_units():
    pred_norm, true = _pair((2,), n=12)
    mean, std = target_stats(true)
    task = _task((2,), mean, std, normalize_targets=True)
    expected = (pred_norm - (true - mean) / std).pow(2).mean()
    torch.testing.assert_close(task.loss(pred_norm, true), expected)
    torch.testing.assert_close(task.metric_inputs(pred_norm), pred_norm * std + mean)
    torch.testing.assert_close(task.prediction(pred_norm), pred_norm * std + mean)


@pytest.mark.parametrize("loss", ["ce", "bce"])
def test_a_classification_loss_is_refused_by_regression(loss):
    with pytest.raises(ConfigError, match=f"task.loss={loss} is a classification loss"):
        _task((), loss=loss)


@pytest.mark.parametrize("loss", ["mse", "rel_l2", "huber"])
def test_a_regression_loss_is_refused_by_classification(loss):
    with pytest.raises(ConfigError, match=f"task.loss={loss} is a regression loss.*task.type regression"):
        ClassificationTask(TaskConfig(loss=loss), 3)


def test_h1_needs_a_1d_or_2d_field():
    with pytest.raises(ConfigError, match="task.loss=h1 needs 1-D or 2-D field targets"):
        _task((3,), loss="h1")
    assert _task((2, 16), loss="h1").num_outputs == 2


def test_strided_targets_of_a_ddp_shard_are_scored():
    """An evaluation shard holds rows rank, rank + world, ...: strided, not contiguous."""
    pred, true = _pair((3,), n=12)
    task = _task((3,))
    _, y = task.unpack((pred[::2], true[::2]))
    got = _epoch(task, task.metric_inputs(pred[::2]), y)
    assert got["val/mse"] == pytest.approx(float(((pred[::2] - true[::2]) ** 2).mean()), rel=1e-6)


@pytest.mark.parametrize(("monitor", "mode"), [("val/nrmse", "min"), ("val/mse", "min"), ("val/r2", "max")])
def test_a_regression_monitor_ranks_the_better_way(monitor, mode):
    from litrain.config import Config
    from litrain.run.parts import resolve_monitor

    cfg = Config(task=TaskConfig(type="regression")).model_copy()
    cfg.checkpoint.monitor = monitor
    shape = (2, 8) if monitor == "val/nrmse" else (3,)
    assert resolve_monitor(cfg, _task(shape)).checkpoint.mode == mode
