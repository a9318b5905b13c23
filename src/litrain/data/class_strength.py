"""Class-aware augmentation strength (``data.augment_class_strength``): a multiplier of
``augment_strength`` per class, given as a list or ``auto`` from the training labels. What
video recipes call severity-aware augmentation: rarer classes are augmented harder."""

from __future__ import annotations

import torch

from litrain.errors import ConfigError

AUTO_POWER = 0.5  # multiplier = (largest class count / this class's count) ** 0.5 ...
AUTO_MAX = 4.0  # ... clipped to [1, 4]; a class absent from the training split gets 4


def auto_multipliers(counts: torch.Tensor) -> list[float]:
    """Per-class multipliers from the (C,) training label counts."""
    counts = counts.double()
    ratio = counts.max() / counts.clamp(min=1e-12)
    return [float(m) for m in ratio.pow(AUTO_POWER).clamp(1.0, AUTO_MAX)]


def class_multipliers(
    given: list[float] | str | None, labels: torch.Tensor | None, num_classes: int, one_label: bool
) -> list[float] | None:
    """The multipliers the config asks for, checked against the data; None: not class-aware."""
    if given is None:
        return None
    if not one_label or labels is None:
        raise ConfigError(
            "data.augment_class_strength needs one class label per sample (classification or "
            "binary data held as tensors or a Dataset with targets): drop data.augment_class_strength"
        )
    if given == "auto":
        return auto_multipliers(torch.bincount(labels.long().flatten(), minlength=num_classes))
    if len(given) != num_classes:
        raise ConfigError(
            f"data.augment_class_strength has {len(given)} multipliers but the data has "
            f"{num_classes} classes: give one per class, or auto"
        )
    return [float(m) for m in given]
