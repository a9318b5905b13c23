"""Preemption: a signal asks for a checkpoint at the next optimizer-step boundary, then the
run exits with :data:`REQUEUE_EXIT_CODE` so a scheduler (or a SLURM requeue script) starts it
again with ``--resume last``.

The handler only sets a flag: saving inside a signal handler could interrupt a checkpoint
write or an allocator. A second signal while the first is handled means "stop now": the
process exits at once; atomic writes guarantee that no checkpoint is torn, and the partial
temp file is cleaned at the next start.

This module is engine-neutral (no Lightning import): the native loop and distributed
launchers call ``PreemptionHandler.requested()`` and ``agree()`` at their step boundary;
``litrain.engines.lightning.callbacks.preemption.PreemptionCallback`` wires it into Lightning.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType
from typing import Any

REQUEUE_EXIT_CODE = 75  # EX_TEMPFAIL (sysexits.h): "temporary failure, retry later"
FORCED_EXIT_CODE = 128 + signal.SIGTERM  # what a shell reports for a process killed by SIGTERM


class Preempted(Exception):  # a control-flow signal, not an error
    """Raised at the step boundary after the preemption checkpoint was written."""

    def __init__(self, checkpoint: Path | None, step: int, signame: str) -> None:
        super().__init__(f"stopped by {signame} at step {step}; checkpoint {checkpoint}")
        self.checkpoint, self.step, self.signame = checkpoint, step, signame


class PreemptionHandler:
    """Installs handlers for ``signals`` that set a flag; restores the old ones on
    ``uninstall``. Only the main thread may install signal handlers."""

    def __init__(self, signals: list[str]) -> None:
        from litrain.config.schema import parse_signals  # here: the CLI imports this module early

        self.signals = parse_signals(signals)
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        for sig in self.signals:
            self._previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:  # asked twice: leave now (writes are atomic)
            os.write(2, b"litrain: second signal, exiting without a checkpoint\n")
            os._exit(FORCED_EXIT_CODE)
        self.received = signal.Signals(signum).name

    def requested(self) -> bool:
        return self.received is not None


def announce(checkpoint: Path, step: int, signame: str | None) -> Preempted:
    """Tell the user (stderr) what was saved and how to go on, once per run (rank 0: every
    rank stops on the same step); returns the exception every rank raises."""
    import sys

    from litrain.launch.environment import is_global_zero

    name = signame or "a signal on another rank"
    if is_global_zero():
        print(
            f"litrain: {name} received: saved {checkpoint} at step {step}; "
            f"exiting with code {REQUEUE_EXIT_CODE}, resume with --resume last",
            file=sys.stderr,
            flush=True,
        )
    return Preempted(checkpoint, step, name)


def agree(flag: bool, device: Any = None) -> bool:
    """True on every rank when any rank got the signal, so all ranks stop on one step
    (one tiny all-reduce; a no-op when not distributed)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    t = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
