import logging
import os
import sys

import pytest

# One torch/OpenMP thread per process under pytest-xdist (set before torch is imported, and
# inherited by every process a test starts): two workers with a thread per core each, plus
# their loader workers and DDP children, oversubscribe a 2-core machine, and contended
# OpenMP threads spin: loader tests ran 10-40x slower than alone.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")

# Tests never touch the network and never pick up a user's W&B account.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


class _CurrentStderr:
    """sys.stderr as it is at each write, not as it was when a handler was made."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _lightning_logs_to_current_stderr() -> None:
    """Lightning adds a StreamHandler bound to sys.stderr when it is first imported; when that
    happens inside a test capturing stderr (capsys), the handler keeps the capture's stream,
    which is closed after that test, and every later Lightning log line in the same process
    prints a '--- Logging error --- Traceback' that the bad-input tests rightly reject."""
    import lightning.fabric
    import lightning.pytorch  # noqa: F401

    for name in ("lightning.pytorch", "lightning.fabric"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                handler.setStream(_CurrentStderr())  # type: ignore[arg-type]


_lightning_logs_to_current_stderr()


@pytest.fixture
def one_thread():
    """One torch intra-op thread for the test (restored after): runs compared across engines
    then sum in the same order. Files use it as ``pytestmark = pytest.mark.usefixtures(...)``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path, monkeypatch):
    """Default run dirs (runs/<name>/...) land in the test's own folder, not the repo."""
    monkeypatch.chdir(tmp_path)


# Real localhost services (S3 via moto, HTTP) for the streaming tests.
# A real `mlflow server` (session-scoped, started once) for the tracking tests.
from mlflow_server import live_mlflow, mlflow_server  # noqa: E402, F401
from stream_services import http_server, s3_server  # noqa: E402, F401


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`-n 2 --dist loadgroup`, the default addopts) the tests that share
    the session-scoped runs of tests/distributed/conftest.py stay on one worker, so that each
    of those runs is trained once, not once per worker; so do the tests of the one MLflow
    server (tests/mlflow_server.py). Known limit: pytest-xdist 3.8 groups by rewriting an
    item's ``_nodeid``, which pytest 9.2 no longer reads, so with that pair the groups are
    not kept together and each worker makes the runs (and starts the server) it uses; the
    tests do not depend on the grouping, only the suite's time does."""
    for item in items:
        if "runs" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("shared_runs"))
        elif "mlflow_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("mlflow_server"))
