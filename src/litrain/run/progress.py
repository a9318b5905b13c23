"""The live view of a fit, the same for both engines: one Rich bar per epoch, a transient
bar while validation runs, and the metrics on their own line below, cut to the terminal's
width, so nothing wraps at 80 columns. The Lightning engine drives it from a ProgressBar
callback (``engines/lightning/callbacks/progress.py``), the native loop calls it directly.

Reading a metric's value costs a device sync, so the metrics are a callable read at most
``refresh_s`` apart, not on every batch."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

# shown first, in this order; the rest follow sorted
FIRST = ("train/loss_step", "train/loss_epoch", "val/loss")
HIDDEN = ("v_num",)


def metrics_line(metrics: Mapping[str, Any], first: Iterable[str] = FIRST) -> str:
    """``name value`` pairs, 4 significant digits, the loss first."""
    order = [k for k in first if k in metrics] + sorted(k for k in metrics if k not in first)
    parts = []
    for k in order:
        if k in HIDDEN:
            continue
        v = metrics[k]
        parts.append(f"{k} {v:.4g}" if isinstance(v, int | float) else f"{k} {v}")
    return "  ".join(parts)


class _Bars(Progress):
    """A Progress with one more line under its bars: the metrics."""

    line = ""

    def get_renderables(self) -> Iterable[RenderableType]:
        table = self.make_tasks_table(self.tasks)
        if not self.line:
            yield table
            return
        yield Group(table, Text(self.line, no_wrap=True, overflow="ellipsis", style="dim"))


class EpochProgress:
    def __init__(
        self,
        max_epochs: int,
        console: Console | None = None,
        first: Iterable[str] = FIRST,
        refresh_s: float = 0.25,
    ) -> None:
        self.max_epochs, self.first, self.refresh_s = max_epochs, tuple(first), refresh_s
        self.bars = _Bars(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("•"),
            TimeRemainingColumn(),
            console=console,
            auto_refresh=False,
        )
        self.metrics: dict[str, Any] = {}
        self._train: TaskID | None = None
        self._train_total: int | None = None
        self._val: TaskID | None = None
        self._last = 0.0
        self._started = False

    def _start(self) -> None:
        if not self._started:
            self.bars.start()
            self._started = True

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.refresh_s:
            self._last = now
            self.bars.line = metrics_line(self.metrics, self.first)
            self.bars.refresh()

    def start_epoch(self, epoch: int, total: int | float | None) -> None:
        self._start()
        last = "?" if self.max_epochs in (-1, None) else str(self.max_epochs - 1)
        size = None if total in (None, float("inf")) else int(total)
        self._train = self.bars.add_task(f"Epoch {epoch}/{last}", total=size)
        self._train_total = size
        self._refresh(force=True)

    def advance(self, done: int, metrics: Callable[[], Mapping[str, Any]] | None = None) -> None:
        """``done`` training batches of this epoch; ``metrics`` is read when a refresh is due
        and on the epoch's last batch (so the view always ends with the last step's values)."""
        if self._train is None:
            return
        self.bars.update(self._train, completed=done)
        last = self._train_total is not None and done >= self._train_total
        if metrics is not None and (last or time.monotonic() - self._last >= self.refresh_s):
            self.metrics.update(metrics())
        self._refresh()

    def start_validation(self, total: int | float | None) -> None:
        self._start()
        size = None if total in (None, float("inf")) else int(total)
        self._val = self.bars.add_task("Validation", total=size)
        self._refresh()

    def advance_validation(self, done: int) -> None:
        if self._val is not None:
            self.bars.update(self._val, completed=done)
            self._refresh()

    def end_validation(self) -> None:
        if self._val is not None:
            self.bars.remove_task(self._val)  # transient: the epoch's bar stays
            self._val = None

    def set_metrics(self, metrics: Mapping[str, Any]) -> None:
        self.metrics.update(metrics)
        self._refresh(force=True)

    def close(self) -> None:
        if self._started:
            self._refresh(force=True)
            self.bars.stop()
            self._started = False
