"""Seeding, and the global RNG states a checkpoint carries for an exact resume (python,
numpy, torch CPU, CUDA) in a form ``torch.load(weights_only=True)`` accepts. Engine-neutral."""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """What ``L.seed_everything(seed, workers=True)`` does (both engines call this one): python,
    numpy and torch (CPU and CUDA) seeded, and the env vars Lightning's worker init reads, so
    DataLoader workers are seeded the same way in both engines."""
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    os.environ["PL_SEED_WORKERS"] = "1"
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def collect_rng_states() -> dict[str, Any]:
    """python, numpy, torch CPU and CUDA generator states, as plain tensors and ints so a
    ``weights_only=True`` load accepts them."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    states: dict[str, Any] = {
        "python": {"version": py_version, "state": list(py_state), "gauss": py_gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    py = states["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    n = states["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"])
    )
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        cuda = states["cuda"]
        if len(cuda) == torch.cuda.device_count():  # a different GPU count: leave CUDA seeded
            torch.cuda.set_rng_state_all(cuda)
