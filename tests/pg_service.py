"""A real PostgreSQL server for the tests, started once per session on a free localhost port:
initdb in a fresh directory, ``postgres`` in its own process group (killed as a group at the
end), ready when a connection succeeds. PostgreSQL refuses to run as root, so as root it runs
as ``nobody``. The binaries come from PATH or Debian's /usr/lib/postgresql/<ver>/bin
(``.ci/run`` installs them); without them the tests fail, they do not skip."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import free_port

READY_TIMEOUT_S = 180  # a loaded 2-core machine


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1:]), None
    )
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed (apt-get install postgresql; .ci/run does)")
    return found


def _as_user() -> dict[str, int]:
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`` of a server this session owns."""
    import psycopg

    who = _as_user()
    root = Path(tempfile.mkdtemp(prefix="litrain-pg-"))  # not under pytest's root-only tmp
    if who:
        os.chown(root, who["user"], who["group"])
    data, log = root / "data", root / "postgres.log"
    subprocess.run(
        [pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=300,
        **who,
    )
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [pg_bin("postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(root), "-F"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: its workers die with it
            **who,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"postgres exited with {server.returncode}: {log.read_text()[-2000:]}")
            try:
                psycopg.connect(
                    f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=5
                ).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    pytest.fail(f"postgres not ready after {READY_TIMEOUT_S}s: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        os.killpg(server.pid, signal.SIGINT)  # fast shutdown: clients still connected are cut off
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        shutil.rmtree(root, ignore_errors=True)
