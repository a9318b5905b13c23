"""What class balancing needs from the training split: its class counts (``DataInfo``, for
class weights) and the labels that drive a class-weighted sampler (``data.sampler``).

Counts come from the training split only (after the seeded val/test hold-out), so nothing
of the held-out data leaks into the weights."""

from __future__ import annotations

import torch
from torch import Tensor

from litrain.config import DataConfig, TaskConfig
from litrain.data.base import DataInfo
from litrain.errors import ConfigError


def head_slices(info: DataInfo) -> dict[str, slice]:
    """Each head's columns of the packed multi-task targets (``DataInfo.head_columns`` order)."""
    out, col = {}, 0
    for name, width in info.head_columns.items():
        out[name] = slice(col, col + width)
        col += width
    return out


def _counts(y: Tensor, classes: int) -> list[int]:
    """Samples per class of (N,) labels, or positives per label of (N, K) 0/1 targets."""
    if y.ndim == 2:
        return [int(v) for v in (y > 0.5).sum(0)]
    return torch.bincount(y.long(), minlength=classes).tolist()


def record_class_counts(info: DataInfo, y: Tensor) -> None:
    """Fill ``info.train_size``, ``class_counts`` (single-label or multilabel data) and
    ``head_class_counts`` (each integer head of multi-task data) from the training targets."""
    info.train_size = len(y)
    if info.head_columns:
        for name, cols in head_slices(info).items():
            if name in info.head_classes:
                block = y[:, cols]
                labels = block[:, 0] if block.shape[1] == 1 else block
                info.head_class_counts[name] = _counts(labels, info.head_classes[name])
    elif not info.float_targets:
        info.class_counts = _counts(y, info.num_classes)


def sampler_labels(cfg: DataConfig, task: TaskConfig, info: DataInfo, y: Tensor) -> Tensor:
    """The (N,) class labels of the training split a weighted ``data.sampler`` draws by: the
    labels themselves, or multi-task data's ``data.sampler_head`` column."""
    key = f"data.sampler={cfg.sampler}"
    if info.head_columns:
        head = cfg.sampler_head
        column = one_label_column(info, head)
        if column is None:
            raise ConfigError(
                f"{key} draws by the labels of data.sampler_head={head}, which is not a one-label "
                f"integer target of the data (heads: {sorted(info.head_columns)}): name a "
                "classification or binary head"
            )
        return y[:, column].long()
    if info.multilabel or info.float_targets or y.ndim != 1:
        raise ConfigError(
            f"{key} balances one class label per sample, but these targets are "
            f"{'multilabel' if info.multilabel else 'real numbers'}: set data.sampler random "
            "(multilabel data can use task.class_weights)"
        )
    return y.long()


def augment_head_column(cfg: DataConfig, info: DataInfo) -> int:
    """The packed-target column of ``data.augment_class_head`` (a one-label integer head)."""
    head = cfg.augment_class_head
    column = one_label_column(info, head)
    if column is None:
        raise ConfigError(
            f"data.augment_class_head={head} is not a one-label integer target of the data (heads: "
            f"{sorted(info.head_columns)}): name a classification or binary head"
        )
    return column


def one_label_column(info: DataInfo, head: str | None) -> int | None:
    """The packed-target column of ``head`` when it is a one-label integer head, else None."""
    cols = head_slices(info).get(head or "")
    if cols is None or cols.stop - cols.start != 1 or head not in info.head_classes:
        return None
    return cols.start
