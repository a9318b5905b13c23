"""Training samples per second (``logging.throughput``), shared by both engines.
Lightning-free. Wall time between two logged steps over the samples trained in between, so
the figure covers data loading, forward, backward and the optimizer."""

from __future__ import annotations

import time


class Throughput:
    def __init__(self) -> None:
        self.samples = 0
        self.since = time.perf_counter()

    def restart(self) -> None:
        """Start a new window (at an epoch's start: validation time is not training time)."""
        self.samples, self.since = 0, time.perf_counter()

    def update(self, samples: int) -> None:
        self.samples += samples

    def rate(self) -> float | None:
        """Samples per second since the last call (or restart); None when nothing ran."""
        now = time.perf_counter()
        elapsed, samples = now - self.since, self.samples
        self.samples, self.since = 0, now
        return samples / elapsed if samples and elapsed > 0 else None
