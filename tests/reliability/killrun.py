"""``python killrun.py fit ...``: ``litrain`` that SIGKILLs itself at a chosen point, so the
crash tests hit exact places (a real kill -9: no handler, no cleanup runs), in either engine.

LITRAIN_KILL_AT=step:N   at the start of this process's N-th training batch
LITRAIN_KILL_AT=term:N[:R]  SIGTERM (not a kill) at its N-th training batch; only on rank R
LITRAIN_KILL_AT=term2:N  two SIGTERMs at its N-th training batch (the second means "now")
LITRAIN_KILL_AT=write:N  in its N-th checkpoint write: temp file complete, not yet renamed
LITRAIN_KILL_AT=tear:N   in its N-th checkpoint write: temp file half written
"""

from __future__ import annotations

import os
import signal
import sys
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
    if kind in ("step", "term", "term2"):
        from litrain.engines.lightning.callbacks.resume import ResumeState
        from litrain.engines.native.loop import NativeTrainer

        # Lightning: the hook that runs first in a batch; native: the batch body itself
        act = {"step": _die, "term": _term, "term2": _term_twice}[kind]
        if rank and os.environ.get("RANK") != rank:
            act = _noop
        for cls, name in ((ResumeState, "on_train_batch_start"), (NativeTrainer, "training_step")):
            setattr(cls, name, _counting(getattr(cls, name), n, seen, act))
        return
    from litrain.checkpoint import store

    original_write = store._write_replace

    def _write_replace(path: Any, write: Any) -> Any:
        if not str(path).endswith(".ckpt"):
            return original_write(path, write)
        seen[0] += 1
        if seen[0] != n:
            return original_write(path, write)

        def torn(f: Any) -> None:
            write(f)
            f.flush()
            f.truncate(f.tell() // 2)
            _die()

        tmp = original_write(path, torn if kind == "tear" else write)
        _die()
        return tmp

    store._write_replace = _write_replace


if __name__ == "__main__":
    if os.environ.get("LITRAIN_KILL_AT"):
        _arm(os.environ["LITRAIN_KILL_AT"])
    from litrain.cli import main

    main(sys.argv[1:])
