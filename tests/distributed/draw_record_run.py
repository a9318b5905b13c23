"""``python draw_record_run.py fit ...`` (alone or under torchrun): ``litrain`` recording, in
either engine, a fingerprint of every sample each rank trains on. ``LITRAIN_RECORD_DRAW=DIR``
gets one ``rank<R>.json``: a list of batches, each a list of sample fingerprints (the first
12 hex digits of the SHA-1 of the sample's float bytes as the model receives it)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any


def _fingerprints(batch: Any) -> list[str]:
    x = batch[0].detach().cpu().contiguous()
    return [hashlib.sha1(sample.numpy().tobytes()).hexdigest()[:12] for sample in x]


def _record(out: Path) -> None:
    from litrain.engines.lightning.module import TaskModule
    from litrain.engines.native.loop import NativeTrainer

    batches: list[list[str]] = []
    path = out / f"rank{os.environ.get('RANK', '0')}.json"

    def recording(step: Any) -> Any:
        def training_step(self: Any, batch: Any, *args: Any) -> Any:
            batches.append(_fingerprints(batch))
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(batches))
            return step(self, batch, *args)

        return training_step

    TaskModule.training_step = recording(TaskModule.training_step)  # type: ignore[method-assign]
    NativeTrainer.training_step = recording(NativeTrainer.training_step)  # type: ignore[method-assign]


if __name__ == "__main__":
    _record(Path(os.environ["LITRAIN_RECORD_DRAW"]))
    from litrain.cli import main

    main(sys.argv[1:])
