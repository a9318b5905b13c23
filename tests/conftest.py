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
