"""``python killrun.py fit ...``: ``litrain`` that SIGKILLs itself at a chosen point, so the
crash tests hit exact places (a real kill -9: no handler, no cleanup runs), in either engine.

LITRAIN_KILL_AT=step:N   at the start of this process's N-th training batch
LITRAIN_KILL_AT=term:N[:R]  SIGTERM (not a kill) at its N-th training batch; only on rank R
LITRAIN_KILL_AT=term2:N  two SIGTERMs at its N-th training batch (the second means "now")
LITRAIN_KILL_AT=write:N  in its N-th checkpoint write: temp file complete, not yet renamed
LITRAIN_KILL_AT=tear:N   in its N-th checkpoint write: temp file half written
LITRAIN_KILL_AT=int:N    Ctrl-C (SIGINT) at its N-th training batch
LITRAIN_KILL_AT=intlost:N  Ctrl-C at its N-th training batch, its exception swallowed there
LITRAIN_KILL_AT=baddata:N  a DataError (an unreadable sample) at its N-th training batch
LITRAIN_KILL_AT=intval:N   Ctrl-C at its N-th validation batch (the sanity check's count)
LITRAIN_KILL_AT=int2val:N  Ctrl-C at its N-th validation batch, and again while it stops
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from typing import Any


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _term() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def _term_twice() -> None:
    _term()
    _term()


def _noop() -> None:
    pass


def _bad_data() -> None:
    from litrain.errors import DataError

    raise DataError("cannot read sample 17 of the training split (injected)")


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the handler raises here


def _ctrl_c_twice() -> None:
    try:
        _ctrl_c()
    except BaseException:  # the first is being handled: a second means "now"
        _ctrl_c()


def _ctrl_c_swallowed() -> None:
    with contextlib.suppress(BaseException):  # as a loader iterator's __del__ drops it
        _ctrl_c()


def _arm_validation(n: int, act: Any) -> None:
    """``act`` at the N-th validation batch of either engine (sanity batches count)."""
    from litrain.engines.lightning.module import TaskModule
    from litrain.engines.native.loop import NativeTrainer

    seen = [0]
    TaskModule.validation_step = _counting(TaskModule.validation_step, n, seen, act)
    to_device = NativeTrainer._to_device

    def counted(self: Any, batch: Any) -> Any:
        if self.phase == "validation":
            seen[0] += 1
            if seen[0] == n:
                act()
        return to_device(self, batch)

    NativeTrainer._to_device = counted


def _counting(method: Any, n: int, seen: list[int], act: Any = _die) -> Any:
    def wrapped(self: Any, *args: Any) -> Any:
        seen[0] += 1
        if seen[0] == n:
            act()
        return method(self, *args)

    return wrapped


def _arm(spec: str) -> None:
    kind, _, rest = spec.partition(":")
    n_text, _, rank = rest.partition(":")
    n, seen = int(n_text), [0]
    if kind in ("intval", "int2val"):
        _arm_validation(n, _ctrl_c if kind == "intval" else _ctrl_c_twice)
        return
    if kind in ("step", "term", "term2", "int", "intlost", "baddata"):
        from litrain.engines.lightning.callbacks.resume import ResumeState
        from litrain.engines.native.loop import NativeTrainer

        # Lightning: the hook that runs first in a batch; native: the batch body itself
        act = {
            "step": _die,
            "term": _term,
            "term2": _term_twice,
            "int": _ctrl_c,
            "intlost": _ctrl_c_swallowed,
            "baddata": _bad_data,
        }[kind]
        if rank and os.environ.get("RANK") != rank:
            act = _noop
        for cls, name in ((ResumeState, "on_train_batch_start"), (NativeTrainer, "training_step")):
            setattr(cls, name, _counting(getattr(cls, name), n, seen, act))
        return
    from litrain.checkpoint import store

    original_write = store.write_temp  # the store's temp write (core.atomic), before the rename

    def _write_temp(path: Any, write: Any, mode: str = "wb") -> Any:
        if not str(path).endswith(".ckpt"):
            return original_write(path, write, mode)
        seen[0] += 1
        if seen[0] != n:
            return original_write(path, write, mode)

        def torn(f: Any) -> None:
            write(f)
            f.flush()
            f.truncate(f.tell() // 2)
            _die()

        tmp = original_write(path, torn if kind == "tear" else write, mode)
        _die()
        return tmp

    store.write_temp = _write_temp


if __name__ == "__main__":
    if os.environ.get("LITRAIN_KILL_AT"):
        _arm(os.environ["LITRAIN_KILL_AT"])
    from litrain.cli import main

    main(sys.argv[1:])
