"""The model card: what a trained model takes and gives, written at fit time so a model loads,
predicts and exports without its training data.

It holds one sample's input shape and dtype, the views, what turns a *raw* input (as the data
source reads it) into the model's input (the source's scaling, the resize, the training split's
mean/std), the class names, the target's kind and shape, the task's heads, and the data's facts
(``DataInfo``) the task and model are sized from. Rank 0 writes it to ``run_dir/model_card.json``;
both engines put it in every checkpoint's hparams (``card``) and safetensors exports carry it in
their metadata (``litrain_card``). JSON only: lists, numbers, strings.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from litrain.config import Config
from litrain.data.base import DataInfo
from litrain.data.datamodule import DataModule
from litrain.data.splits import Normalize
from litrain.tasks.base import Task

CARD_FILE = "model_card.json"
CARD_VERSION = 1
_TENSOR_FIELDS = ("target_mean", "target_std", "input_mean", "input_std")


def build_card(
    cfg: Config, datamodule: Any, info: DataInfo | None, task: Task | None
) -> dict[str, Any] | None:
    """The card of a run on litrain's data; None for a user's own data (data.class_path),
    whose inputs litrain cannot describe (those runs load by rebuilding their parts)."""
    if not isinstance(datamodule, DataModule) or info is None or task is None:
        return None
    mean, std = _normalization(datamodule)
    image = info.is_image or info.is_video
    return {
        "version": CARD_VERSION,
        "task": cfg.task.type,
        "input": {
            "shape": list(info.input_shape),
            "dtype": "float32",
            "views": info.views,
            "kind": "video" if info.is_video else "image" if info.is_image else "array",
        },
        "raw": {
            "shape": list(info.source_shape or info.input_shape),  # before the resize
            "scale": info.raw_scale,  # raw values / scale (uint8 pixels: / 255)
            "image_size": cfg.data.image_size if image and info.source_shape else None,
            "mean": mean,
            "std": std,
        },
        "classes": list(info.class_names),
        "target": {"kind": _target_kind(info), "shape": list(info.target_shape)},
        "heads": {
            name: {"columns": n, "classes": info.head_classes.get(name, 0)}
            for name, n in info.head_columns.items()
        },
        "data": info_to_dict(info),
    }


def _normalization(dm: DataModule) -> tuple[list | None, list | None]:
    """The training split's mean and std the eval transform applies (nested lists, shaped
    to broadcast against one sample), or (None, None) without normalization."""
    tf = getattr(dm.val_set, "transform", None)
    if isinstance(tf, Normalize):
        return tf.mean.tolist(), tf.std.tolist()
    mean, std = getattr(dm.val_set, "mean", None), getattr(dm.val_set, "std", None)  # streamed shards
    if isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor):
        return mean.tolist(), std.tolist()
    return None, None


def _target_kind(info: DataInfo) -> str:
    if info.head_columns:
        return "multitask"
    if info.float_targets:
        return "field" if len(info.target_shape) >= 2 else "real"
    return "multilabel" if info.multilabel else "class"


def info_to_dict(info: DataInfo) -> dict[str, Any]:
    return {f.name: _plain(getattr(info, f.name)) for f in dataclasses.fields(info)}


def _plain(value: Any) -> Any:
    """JSON's types: tensors and NumPy values become (nested) lists and numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def info_from_card(card: dict[str, Any]) -> DataInfo:
    """The DataInfo the run was sized from, as its card recorded it."""
    data = dict(card["data"])
    names = {f.name for f in dataclasses.fields(DataInfo)}
    kwargs = {k: v for k, v in data.items() if k in names}
    for key in ("input_shape", "target_shape", "source_shape"):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])
    if "head_shapes" in kwargs:  # JSON lists back to shapes
        kwargs["head_shapes"] = {k: tuple(v) for k, v in kwargs["head_shapes"].items()}
    for key in _TENSOR_FIELDS:
        if kwargs.get(key) is not None:
            kwargs[key] = torch.tensor(kwargs[key], dtype=torch.float32)
    return DataInfo(**kwargs)


def write_card(card: dict[str, Any] | None, run_dir: Path) -> None:
    """run_dir/model_card.json (rank 0 calls this); nothing for a run without a card."""
    if card is None:
        return
    from litrain.run.report import write_json

    write_json(run_dir / CARD_FILE, card)


def read_card(run_dir: Path) -> dict[str, Any] | None:
    """A run dir's card; None for a run written before cards (or one without)."""
    import json

    path = run_dir / CARD_FILE
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text())
    except ValueError:
        return None
    return card if isinstance(card, dict) and "data" in card else None
