"""One process writes a run dir at a time: an OS advisory lock (``flock``) on
``RUN/.litrain.lock``, held while a command writes the run dir and released when it ends or
its process dies (the kernel drops the lock with the process, so a killed run never leaves
a stale lock). Only the process that chooses the run dir takes it (rank 0 of a distributed
run: the ranks of one run share it). A second process gets one line naming the holder's pid
and touches nothing.

The lock file is removed on release; whoever locks checks that the file it locked is still
the one at the path (a release between its open and its lock would otherwise hand it a lock
on a removed file)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from litrain.errors import ConfigError

LOCK_NAME = ".litrain.lock"

_held: dict[str, list[int]] = {}  # resolved run dir -> [fd, depth] (re-entrant in a process)


def _key(run_dir: Path) -> str:
    return str(Path(run_dir).resolve())


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode(errors="replace").strip()
    return text if text.isdigit() else "?"


def _in_use(run_dir: Path, fd: int) -> ConfigError:
    return ConfigError(
        f"run dir {run_dir} is in use by pid {_holder(fd)}: wait for that command to end, "
        "or choose another --run-dir"
    )


def check_not_in_use(run_dir: Path) -> None:
    """Refuse a run dir another process holds, without creating or changing any file."""
    if _key(run_dir) in _held:
        return
    try:
        fd = os.open(run_dir / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return  # no lock file: nobody holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _in_use(run_dir, fd) from None
    finally:
        os.close(fd)  # closing drops a probe's lock


def check_writable(run_dir: Path, *inside: Path) -> None:
    """A run dir (and the folders in it a command writes) this process can write to, checked
    before any work: a read-only one is one line, not an OSError after the work."""
    for d in (run_dir, *inside):
        if d.is_dir() and not os.access(d, os.W_OK):
            raise ConfigError(
                f"run dir {run_dir} is read-only ({d} cannot be written): make it writable, "
                "or choose another --run-dir (copy the run there to continue it)"
            )


def lock_run_dir(run_dir: Path) -> None:
    """Take the run dir's lock for this process (the dir must exist); a ConfigError when
    another process holds it or the dir cannot be written."""
    key = _key(run_dir)
    if key in _held:
        _held[key][1] += 1
        return
    path = Path(run_dir) / LOCK_NAME
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(
                f"run dir {run_dir} is read-only ({exc.strerror}): make it writable, or choose "
                "another --run-dir"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            err = _in_use(run_dir, fd)
            os.close(fd)
            raise err from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # removed by its last holder between our open and lock: again
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = [fd, 1]


def release_run_dir(run_dir: Path | None) -> None:
    """Give the lock back (a no-op when this process does not hold it)."""
    if run_dir is None:
        return
    key = _key(run_dir)
    entry = _held.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] > 0:
        return
    del _held[key]
    # while still locked: no one else holds this file. Gone already: removed with the run
    # dir (a failed start); or a read-only dir
    with suppress(OSError):
        os.unlink(Path(run_dir) / LOCK_NAME)
    os.close(entry[0])


def holds_lock(run_dir: Path) -> bool:
    return _key(run_dir) in _held


def writes_inside(run_dir: Path, target: Path) -> bool:
    """Whether ``target`` (a file a command writes) lies in ``run_dir``."""
    return Path(target).resolve().is_relative_to(Path(run_dir).resolve())


@contextmanager
def holding(run_dir: Path, *inside: Path) -> Iterator[None]:
    """The run dir locked (created if new) and writable, ``inside`` folders included, for
    the ``with`` block: what validate/test/predict/export take before they load anything."""
    from litrain.launch.environment import is_global_zero

    if not is_global_zero():  # the ranks of one command share rank 0's lock
        yield
        return
    run_dir = Path(run_dir)
    if run_dir.is_dir():
        check_not_in_use(run_dir)
        check_writable(run_dir, *inside)
    else:
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create run dir {run_dir} ({exc.strerror})") from None
    lock_run_dir(run_dir)
    try:
        yield
    finally:
        release_run_dir(run_dir)
