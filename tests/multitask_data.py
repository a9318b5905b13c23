"""A small generated multi-task data set: 8 features, a 3-class "severity" head, a binary
"action" head and a real "score" head, each learnable from a few of the features."""

from __future__ import annotations

from pathlib import Path

import numpy as np

HEADS = {
    "severity": {"type": "classification"},
    "action": {"type": "binary"},
    "score": {"type": "regression"},
}


def arrays(n: int = 240, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    return {
        "x": x,
        "y_severity": ((x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)),
        "y_action": (x[:, 2] > 0).astype(np.int64),
        "y_score": (2 * x[:, 3] + x[:, 4]).astype(np.float32),
    }


def write_npz(path: Path, n: int = 240, seed: int = 0) -> Path:
    np.savez(path, **arrays(n, seed))
    return path


def config(root: Path, **overrides: object) -> dict[str, object]:
    """litrain.fit keyword overrides for a multitask MLP on ``root``."""
    return {
        "data.source": "arrays",
        "data.root": str(root),
        "data.batch_size": 32,
        "model.name": "mlp",
        "task.type": "multitask",
        "task.heads": HEADS,
        **overrides,
    }
