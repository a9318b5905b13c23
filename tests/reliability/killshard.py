"""``python killshard.py shard ...``: ``litrain shard`` that SIGKILLs itself in its N-th
tar member write (``LITRAIN_KILL_AT=member:N``), so a shard is torn mid-write: a real
kill -9, no handler and no cleanup runs."""

from __future__ import annotations

import os
import signal
import sys

import webdataset as wds

_kind, _, _n = os.environ.get("LITRAIN_KILL_AT", "member:0").partition(":")
_seen = [0]
_write = wds.TarWriter.write


def _write_then_die(self: wds.TarWriter, obj: dict) -> int:
    _seen[0] += 1
    if _seen[0] == int(_n):
        self.stream.flush()  # what the tar stream passed on is on disk, as a real crash leaves it
        os.kill(os.getpid(), signal.SIGKILL)
    return _write(self, obj)


wds.TarWriter.write = _write_then_die  # type: ignore[method-assign]

if __name__ == "__main__":
    from litrain.cli import main

    main(sys.argv[1:])
