"""What a data source hands the DataModule: tensors or Datasets per split, plus what the
model needs to know about the inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.utils.data import Dataset


@dataclass
class DataInfo:
    """Facts about the data that configure the model and the task."""

    input_shape: tuple[int, ...]  # one sample, e.g. (1, 8, 8), (64,) or (3, 32, 32)
    num_classes: int
    class_names: list[str] = field(default_factory=list)
    multilabel: bool = False
    is_image: bool = False  # (C, H, W) images: image transforms apply
    is_video: bool = False  # (C, T, H, W) clips: image transforms apply to all frames alike
    float_targets: bool = False  # real-valued targets (regression), not class labels
    # Multi-task data: each head's number of target columns, in column order. y is then one
    # float32 (N, sum of widths) tensor (class labels stored as floats: exact below 2**24),
    # so every loader, sampler and DDP shard handles it like any other target tensor.
    head_columns: dict[str, int] = field(default_factory=dict)
    head_classes: dict[str, int] = field(default_factory=dict)  # integer heads: classes seen
    # Field heads: one sample's target shape ((C, L), (C, H, W)), its columns flattened in y.
    head_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # The training split's class counts (litrain.data.balance): samples per class, or
    # positives per label of multilabel data; per integer head of multi-task data. Empty
    # when unknown (streamed shards, regression). train_size: its number of samples.
    class_counts: list[int] = field(default_factory=list)
    head_class_counts: dict[str, list[int]] = field(default_factory=dict)
    train_size: int = 0
    # One sample's target shape: () one label or scalar, (K,) a vector, (C, L), (C, H, W) or
    # (T, C, H, W) a field (litrain.data.targets).
    target_shape: tuple[int, ...] = ()
    # The target's first axis is time ((T, L) from data.pde_steps, or (T, C, H, W)): a rollout.
    time_axis: bool = False
    # data.normalize: the training split's per-channel input mean and std (the DataModule),
    # so a rollout can feed a prediction back in the input's units.
    input_mean: torch.Tensor | None = None
    input_std: torch.Tensor | None = None
    # task.normalize_targets: the training split's target mean and std (data.targets), set
    # by the DataModule from the seeded split, so a rebuilt run gets the same numbers.
    target_mean: torch.Tensor | None = None
    target_std: torch.Tensor | None = None
    # Multi-view data: samples are (V, ...) with V = views; 0 = no view axis. input_shape is
    # one sample as the loaders give it, view axis included; view_shape is one view's.
    views: int = 0
    # What turns a raw sample (as the source reads it) into input_shape's: the source divides
    # raw values by raw_scale (sklearn's digits: 16; uint8 pixels are always divided by 255),
    # and source_shape is one sample before data.image_size resized it (() = input_shape).
    raw_scale: float = 1.0
    source_shape: tuple[int, ...] = ()

    @property
    def view_shape(self) -> tuple[int, ...]:
        return self.input_shape[1:] if self.views else self.input_shape

    @property
    def in_chans(self) -> int:
        shape = self.view_shape
        return shape[0] if len(shape) > 1 else 1


Split = tuple[torch.Tensor, torch.Tensor] | Dataset
"""A split is either in-memory ``(x, y)`` tensors or a map-style Dataset of (x, y) pairs.
y is int64 (N,) class indices or (N, K) 0/1 targets for multilabel data, or floats when
``DataInfo.float_targets``; the task decides what it can learn from."""


@dataclass
class SourceData:
    train: Split
    info: DataInfo
    val: Split | None = None  # None: the DataModule carves val_split out of train
    test: Split | None = None  # None: test_split of train, else the val split is reused


def split_len(split: Split) -> int:
    return len(split[0]) if isinstance(split, tuple) else len(split)  # type: ignore[arg-type]
