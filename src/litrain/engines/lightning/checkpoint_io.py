"""Lightning's checkpoint I/O routed through :mod:`litrain.checkpoint.store`: every checkpoint the
Trainer writes (top-k, last, periodic, preemption, debug) is atomic and checksummed, and
every checkpoint it reads is verified and loaded with ``weights_only=True``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning.fabric.plugins import TorchCheckpointIO

from litrain.checkpoint import store


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        store.atomic_save(checkpoint, Path(path))

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: bool | None = None) -> Any:
        # weights_only is always on: a litrain checkpoint never needs pickled code.
        return store.safe_load(Path(path), map_location=map_location or "cpu")

    def remove_checkpoint(self, path: Any) -> None:
        store.remove_checkpoint(path)
