"""Lightning side of preemption: see :mod:`litrain.reliability.preemption` for the mechanism and exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L

from litrain.reliability.preemption import PreemptionHandler, agree, announce


class PreemptionCallback(L.Callback):
    """Lightning: on the first step boundary after a signal, every rank saves
    ``<dirpath>/last.ckpt`` and raises :class:`Preempted`; the shared lifecycle (``litrain.run.lifecycle``) turns that into
    a result with ``preempted`` set and the CLI exits with ``REQUEUE_EXIT_CODE``."""

    def __init__(self, dirpath: str | Path, signals: list[str], filename: str = "last.ckpt") -> None:
        self.path = Path(dirpath) / filename
        self.handler = PreemptionHandler(signals)
        self._last_seen = 0

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        # After Lightning's own signal connector ran, so these handlers win.
        self._last_seen = trainer.global_step
        self.handler.install()

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if trainer.global_step == self._last_seen:
            return  # between accumulation micro-batches: not a step boundary
        self._last_seen = trainer.global_step
        if not agree(self.handler.requested(), pl_module.device):
            return
        trainer.save_checkpoint(self.path)
        raise announce(self.path, trainer.global_step, self.handler.received)

    # Put the old handlers back while training ends, before Lightning's signal connector
    # restores the ones it saw at the start: uninstalling later (in ``teardown``) would put
    # the connector's own handler back for good.
    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self.handler.uninstall()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self.handler.uninstall()
