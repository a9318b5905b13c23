"""A real ``mlflow server`` on localhost for the tracking tests, started once per session
(it takes seconds): its own process group, a free port, a sqlite backend and a local
artifact store in a temp dir, one worker, no job runner. ``stop`` kills it as a group (a
crash, as a test needs) and ``start`` brings it back on the same port and backend."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers import free_port

START_TIMEOUT_S = 180  # a loaded 2-core machine starts it in ~10 s; wait on /health, not a sleep


@dataclass
class MlflowServer:
    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.uri + "/health", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def start(self) -> None:
        env = {
            **os.environ,
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no huey job runner processes
            "MLFLOW_SERVER_JOB_ENABLE_PERIODIC_TASKS": "false",
        }
        log = (self.root / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server",
             "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
             "--artifacts-destination", str(self.root / "artifacts"),
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(self.root / 'server.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mlflow server not healthy in {START_TIMEOUT_S} s")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGKILL the whole group (uvicorn and its worker) and wait until it is gone."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)
        self.proc = None
        deadline = time.monotonic() + 60
        while self.healthy() and time.monotonic() < deadline:  # a worker still draining
            time.sleep(0.1)

    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow_server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_mlflow(mlflow_server: MlflowServer) -> MlflowServer:
    """The session's server, running (started again if a test before killed it). Under
    xdist each worker that runs these tests has its own server (own port, own store)."""
    if mlflow_server.proc is None or mlflow_server.proc.poll() is not None:
        mlflow_server.stop()
        mlflow_server.start()
    return mlflow_server
