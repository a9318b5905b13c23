"""What a fit tells the search it is a trial of (``litrain sweep``), engine-neutral: after
each validation epoch the engine hands the epoch's metrics to the trial's report, which may
answer with a reason to stop now (the trial is pruned). The Lightning engine calls it from a
callback, the native loop from its epoch end; both then stop as early stopping does, with
checkpoints and summary.json written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class EpochReport(Protocol):
    def report(self, epoch: int, metrics: Mapping[str, float]) -> str | None:
        """The epoch's metrics (0-based epoch); a line saying why to stop, or None."""
        ...
