"""``python shard_ids_run.py fit ...``: ``litrain`` through ``tests/reliability/killrun.py``
(``LITRAIN_KILL_AT`` armed the same way), recording in the native engine which samples each
rank trains on, as ``shard_ids_callback.RecordIds`` does for the Lightning engine (the native
engine takes no Lightning callbacks): ``LITRAIN_RECORD_IDS=DIR`` gets one
``rank<R>-pid<P>.json`` per process, rewritten after every batch."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "reliability"))
import killrun


def _record(out: Path) -> None:
    from litrain.engines.native.loop import NativeTrainer

    step = NativeTrainer.training_step
    batches: list[list[int]] = []

    def training_step(self: Any, batch: Any, *args: Any) -> Any:
        x = batch[0]
        batches.append([int(v) for v in x.reshape(len(x), -1)[:, 0].round().tolist()])
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"rank{os.environ.get('RANK', '0')}-pid{os.getpid()}.json"
        path.write_text(json.dumps(batches))
        return step(self, batch, *args)

    NativeTrainer.training_step = training_step  # type: ignore[method-assign]


if __name__ == "__main__":
    if os.environ.get("LITRAIN_RECORD_IDS"):
        _record(Path(os.environ["LITRAIN_RECORD_IDS"]))
    if os.environ.get("LITRAIN_KILL_AT"):
        killrun._arm(os.environ["LITRAIN_KILL_AT"])
    from litrain.cli import main

    main(sys.argv[1:])
