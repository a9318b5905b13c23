"""Ending a multi-process run at once, with one line naming the culprit, when a rank dies.

Under Lightning's own launcher (``--devices N`` without torchrun) rank 0 starts ranks
1..N-1 as child processes. When one of them dies (the OOM killer's SIGKILL, a segfault),
the others fail in their next collective with a gloo/NCCL traceback that names no rank,
or, where no socket tells them, wait in it until ``ddp_timeout``; Lightning's own
observer, when it notices first, SIGKILLs rank 0 without a word.

:mod:`litrain.engines.lightning.launcher` replaces that observer with a :class:`PeerWatch` in every process
while a Trainer runs: rank 0 polls its children, a child polls its parent. When the main
thread then fails, :meth:`PeerWatch.explain` turns the failure into :class:`RankDied`: the
one line goes to stderr, the CLI exits with :data:`EXIT_CODE` and no traceback. If the main
thread does not fail within a grace period (busy outside any collective), the watcher prints
the line and ends the process itself. Checkpoints are written atomically, so ending a
process at any instant leaves every finished checkpoint whole.

Lightning-free (stdlib only): the CLI imports it to catch :class:`RankDied`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

from litrain.errors import LitrainError
from litrain.reliability.preemption import Preempted

POLL_S = 0.2  # seconds between two looks at the peers
SETTLE_S = 3.0  # a failing main thread waits this long for the watcher to find a dead peer
EXIT_CODE = 1  # torchrun's exit code when a rank fails: scripts can treat both launchers alike


class RankDied(Exception):
    """Another process of this run died; the message names it and is already on stderr."""

    exit_code = EXIT_CODE


def describe(returncode: int) -> str:
    """``died with SIGKILL`` / ``exited with code 3``, from a Popen return code."""
    if returncode < 0:
        try:
            return f"died with {signal.Signals(-returncode).name}"
        except ValueError:
            return f"died with signal {-returncode}"
    return f"exited with code {returncode}"


class PeerWatch(threading.Thread):
    """Calls ``find_dead`` every :data:`POLL_S` s; its first non-None answer (``"rank 1 (pid
    12) died with SIGKILL"``) is the verdict. Then ``on_dead`` runs (rank 0 kills the other
    children, which would otherwise wait in a collective) and the main thread has ``grace_s``
    to report it through :meth:`explain`; after that the watcher reports and exits."""

    def __init__(
        self,
        find_dead: Callable[[], str | None],
        on_dead: Callable[[], None],
        hint: Callable[[], str],
        grace_s: float,
    ) -> None:
        super().__init__(daemon=True, name="litrain-peer-watch")
        self._find_dead, self._on_dead, self._hint, self._grace_s = find_dead, on_dead, hint, grace_s
        self.dead: str | None = None
        self._found = threading.Event()
        self._settled = threading.Event()  # the main thread is past the Trainer: stop watching
        self._lock = threading.Lock()
        self._said = False

    def run(self) -> None:
        while (dead := self._find_dead()) is None:
            if self._settled.wait(POLL_S):
                return
        self.dead = dead
        self._found.set()
        self._on_dead()
        if not self._settled.wait(self._grace_s):
            # The main thread is busy outside any collective: never wait out ddp_timeout.
            self.say()
            os._exit(EXIT_CODE)

    def message(self) -> str:
        return f"{self.dead}; the run stopped. {self._hint()}"

    def say(self) -> None:
        """Print the one line, once, from whichever thread gets here first."""
        with self._lock:
            if not self._said:
                self._said = True
                print(f"litrain: {self.message()}", file=sys.stderr, flush=True)

    def explain(self, exc: BaseException) -> None:
        """Called by the main thread with the exception a Trainer entry point raised: raises
        :class:`RankDied` instead when a peer died. A user error (LitrainError, which every
        rank raises alike) stays as it is."""
        # A user error (every rank raises it alike) or a preemption stop (every rank agreed
        # on it) is not a peer's death.
        ours = isinstance(exc, LitrainError | Preempted)
        if not ours:
            # The dead peer's closed sockets fail our collective a moment before its exit
            # can be seen; a rank-0-only bug waits SETTLE_S here, once, before its traceback.
            self._found.wait(SETTLE_S)
        self._settled.set()
        if self.dead is not None and not ours:
            self.say()
            raise RankDied(self.message()) from exc

    def stop(self) -> None:
        """The Trainer entry point returned: stop watching, report nothing."""
        self._settled.set()
