import os

import pytest

# Tests never touch the network and never pick up a user's W&B account.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path, monkeypatch):
    """Default run dirs (runs/<name>/...) land in the test's own folder, not the repo."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def s3_server(monkeypatch):
    """A moto S3 server on a free localhost port; the AWS_* variables point at it."""
    from stream_services import moto_s3

    with moto_s3() as endpoint:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield endpoint


@pytest.fixture
def http_server(tmp_path):
    """A static HTTP server over ``tmp_path / "www"`` (created empty); yields its base URL."""
    from stream_services import http_dir

    root = tmp_path / "www"
    root.mkdir()
    with http_dir(root) as url:
        yield url
