"""litrain: one typed config trains classifiers, regression and neural-operator models with
PyTorch Lightning (or a plain PyTorch loop), from a laptop CPU to clusters.

The API is imported lazily so that ``import litrain`` (and ``litrain --help``) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litrain.core.versions import __version__ as __version__

__all__ = [
    "fit",
    "load",
    "load_config",
    "pipeline",
    "predict",
    "shard",
    "test",
    "tune_batch_size",
    "tune_lr",
    "validate",
]

if TYPE_CHECKING:
    from litrain.api import (
        fit,
        load,
        pipeline,
        predict,
        shard,
        test,
        tune_batch_size,
        tune_lr,
        validate,
    )
    from litrain.config import load_config


def __getattr__(name: str) -> Any:
    if name in (
        "fit",
        "validate",
        "test",
        "predict",
        "tune_lr",
        "tune_batch_size",
        "load",
        "pipeline",
        "shard",
    ):
        import litrain.api

        return getattr(litrain.api, name)
    if name == "load_config":
        from litrain.config import load_config

        return load_config
    raise AttributeError(f"module 'litrain' has no attribute {name!r}")
