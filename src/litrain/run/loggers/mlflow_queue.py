"""Metrics to MLflow without slowing training: ``put`` only appends to a bounded queue; a
background thread sends what has gathered over ``interval_s`` (1 s) in ``log_batch`` calls
of up to 1000 values (a request per step would cost the server, on the same machine, CPU
the training needs).

A send that fails (the server went away) costs one warning: that batch and every later one
go to a local spool (JSONL, one batch a line, with each value's timestamp and step), and
the thread tries the server again every ``retry_s``; when it answers, the spool is replayed
first. ``close`` sends what is left and replays the spool once more; what still could not
be sent stays in the spool for ``litrain runs sync``. A full queue spools too (never blocks).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from litrain.core.atomic import atomic_write_text

# (key, value, timestamp in ms, step): one metric value, as log_batch takes it
Value = tuple[str, float, int, int]
BATCH = 1000  # MLflow's limit of metrics per log_batch request
QUEUE_SIZE = 100_000  # values: at 1000 steps/s of 10 metrics, 10 s of a server's stall
_STOP = object()


class Spool:
    """The values MLflow has not taken yet, in run_dir/logs/mlflow_spool.jsonl."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def add(self, values: list[Value]) -> None:
        if not values:
            return
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps(values) + "\n")

    def batches(self) -> list[list[Value]]:
        with self.lock:
            if not self.path.is_file():
                return []
            lines = self.path.read_text().splitlines()
        out = []
        for line in lines:
            try:
                out.append([tuple(v) for v in json.loads(line)])
            except ValueError:  # a line torn by a kill mid-write: the rest still replays
                continue
        return out

    def count(self) -> int:
        return sum(len(b) for b in self.batches())

    def replay(self, send: Callable[[list[Value]], None]) -> None:
        """Send every spooled batch in order; what is sent leaves the spool (a failure
        keeps the rest and raises)."""
        pending = self.batches()
        while pending:
            send(pending[0])
            pending.pop(0)
            with self.lock:
                if pending:
                    atomic_write_text(self.path, "".join(json.dumps(b) + "\n" for b in pending))
                else:
                    self.path.unlink(missing_ok=True)


class Sender:
    """``put`` from the training loop; ``send`` (one log_batch) runs on the thread only
    (or inline when ``asynchronous`` is off). ``warn`` prints the one warning."""

    def __init__(
        self,
        send: Callable[[list[Value]], None] | None,
        spool: Spool,
        warn: Callable[[str], None],
        *,
        reason: Callable[[BaseException], str] = str,
        asynchronous: bool = True,
        retry_s: float = 10.0,
        interval_s: float = 1.0,
    ) -> None:
        self.send, self.spool, self.warn, self.reason, self.retry_s = send, spool, warn, reason, retry_s
        self.interval_s = interval_s
        self.down = send is None  # offline: everything goes to the spool
        self.warned = False
        self.next_try = 0.0
        self.queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_SIZE)
        self.thread: threading.Thread | None = None
        if asynchronous and send is not None:
            self.thread = threading.Thread(target=self._loop, name="litrain-mlflow", daemon=True)
            self.thread.start()

    def put(self, values: list[Value]) -> None:
        if self.thread is None:
            self._deliver(values)
            return
        for v in values:
            try:
                self.queue.put_nowait(v)
            except queue.Full:  # the thread is behind (a slow server): keep it, never wait
                self.spool.add([v])

    def _loop(self) -> None:
        while True:
            first = self.queue.get()
            if first is _STOP:
                return
            values = [first]
            stop = False
            deadline = time.monotonic() + self.interval_s
            while len(values) < BATCH:  # gather for up to interval_s: few requests, little server CPU
                try:
                    item = self.queue.get(timeout=max(deadline - time.monotonic(), 0.0))
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                values.append(item)
            self._deliver(values)  # type: ignore[arg-type]
            if stop:
                return

    def _deliver(self, values: list[Value]) -> None:
        if self.down and not self._back():
            self.spool.add(values)
            return
        try:
            for i in range(0, len(values), BATCH):
                self.send(values[i : i + BATCH])  # type: ignore[misc]
        except Exception as exc:
            self._lost(exc)
            self.spool.add(values[i:])

    def _back(self) -> bool:
        """While down, try the server again every ``retry_s``: replay the spool if it answers."""
        if self.send is None or time.monotonic() < self.next_try:
            return False
        try:
            self.spool.replay(self.send)
        except Exception:
            self.next_try = time.monotonic() + self.retry_s
            return False
        self.down = False
        return True

    def _lost(self, exc: BaseException) -> None:
        self.down = True
        self.next_try = time.monotonic() + self.retry_s
        if not self.warned:
            self.warned = True
            self.warn(
                f"MLflow stopped taking metrics ({self.reason(exc)}); they go to {self.spool.path} "
                "and are replayed when it is back"
            )

    def close(self) -> None:
        """Send what is queued, then try the spool once more (no wait for a server away)."""
        if self.thread is not None:
            self.queue.put(_STOP)
            self.thread.join()
            self.thread = None
        if self.send is not None:
            self.next_try = 0.0
            if self.spool.path.is_file():
                self.down = True  # replay through _back, which counts as a fresh try
                self._back()
