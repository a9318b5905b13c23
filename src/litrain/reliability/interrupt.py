"""Ctrl-C (SIGINT) during a fit: the first stops training where it is, the run records
``status: interrupted`` in summary.json and the command exits 130 with one line; the second
exits at once.

The first raises :class:`Interrupted` from the handler, so a blocked data loader or a long
validation stops within seconds, not at the next step boundary. Checkpoints are written
atomically (a temp file, then a rename), so stopping anywhere leaves the last complete one
intact; a torn temp file is cleaned at the next start. Engine-neutral: no Lightning import.
Not a ``KeyboardInterrupt``: Lightning would turn that into its own message and ``exit(1)``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

INTERRUPT_EXIT_CODE = 128 + signal.SIGINT  # what a shell reports for Ctrl-C

_ACTIVE: InterruptHandler | None = None  # the installed handler, for raise_if_lost


class Interrupted(BaseException):  # control flow: no ``except Exception`` may swallow it
    """Raised by the first Ctrl-C, where the loop was: ``epoch`` (0-based) and ``phase``."""

    def __init__(self, epoch: int, phase: str) -> None:
        super().__init__(f"interrupted at epoch {epoch} ({phase})")
        self.epoch, self.phase = epoch, phase


class RunInterrupted(KeyboardInterrupt):
    """What a fit raises once the interrupted run's summary is written: its message is the
    line the CLI prints (exit 130); Python callers see the KeyboardInterrupt they expect."""


class InterruptHandler:
    """SIGINT's handler while a fit trains. ``where`` says (epoch, phase) at the moment of
    the signal. Only the main thread may install signal handlers (elsewhere: a no-op)."""

    def __init__(self, where: Callable[[], tuple[int, str]]) -> None:
        self.where = where
        self.fired = False
        self.stop: Interrupted | None = None  # what the first Ctrl-C raised
        self._previous: Any = None
        self._pid = os.getpid()
        self._installed = False
        self._unraisable: Callable[[Any], Any] = sys.unraisablehook

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.getsignal(signal.SIGINT)
        self._pid = os.getpid()
        signal.signal(signal.SIGINT, self._handle)
        self._unraisable = sys.unraisablehook
        sys.unraisablehook = self._drop_lost_stop
        self._installed = True
        global _ACTIVE
        _ACTIVE = self

    def uninstall(self) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.SIG_DFL)
            sys.unraisablehook = self._unraisable
            self._installed = False
            global _ACTIVE
            _ACTIVE = None

    def _drop_lost_stop(self, unraisable: Any) -> None:
        # the stop raised where Python could only print it: kept in self.stop (see caused)
        if not isinstance(unraisable.exc_value, Interrupted):
            self._unraisable(unraisable)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self._pid:
            # a forked data loader worker (the terminal's Ctrl-C reaches the whole process
            # group): the KeyboardInterrupt its loop expects, so it ends quietly
            raise KeyboardInterrupt
        if self.fired:  # asked twice: leave now (every file is written atomically)
            os.write(2, b"litrain: interrupted again, exiting now\n")
            os._exit(INTERRUPT_EXIT_CODE)
        self.fired = True
        try:
            epoch, phase = self.where()
        except Exception:
            epoch, phase = 0, "training"
        self.stop = Interrupted(epoch, phase)
        raise self.stop

    def raise_lost(self) -> None:
        """Raise the first Ctrl-C's stop again if it was lost and the run went on."""
        if self.stop is not None:
            raise self.stop

    def caused(self, exc: BaseException) -> Interrupted | None:
        """The interruption behind ``exc`` once Ctrl-C was pressed. The handler's exception
        can be lost: raised inside a callback Python ignores exceptions of (logging's
        at-fork hook while the loader forks its workers), it is printed and dropped, and the
        run then fails another way (the workers, which got the SIGINT too, are gone)."""
        return self.stop if self.fired else None


def raise_if_lost() -> None:
    """Called by both engines before every batch. The handler's exception is dropped
    without a trace where it lands in code that swallows exceptions (a data loader
    iterator's ``__del__`` as an epoch's workers shut down, an at-fork hook): the run would
    then train on to its end. Here it is raised again, at the next batch."""
    if _ACTIVE is not None:
        _ACTIVE.raise_lost()
