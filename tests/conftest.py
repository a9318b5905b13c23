import os

import pytest

# Tests never touch the network and never pick up a user's W&B account.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path, monkeypatch):
    """Default run dirs (runs/<name>/...) land in the test's own folder, not the repo."""
    monkeypatch.chdir(tmp_path)


# Real localhost services (S3 via moto, HTTP) for the streaming tests.
from stream_services import http_server, s3_server  # noqa: E402, F401


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`-n 2 --dist loadgroup`, the default addopts) the tests that share
    the session-scoped runs of tests/distributed/conftest.py stay on one worker, so that each
    of those runs is trained once, not once per worker."""
    for item in items:
        if "runs" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("shared_runs"))
