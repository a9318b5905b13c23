"""Bad input to ``litrain shard``: one line that names what to change (and the URL, for
remote output), exit 2, no traceback, and nothing half-written left looking complete."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import numpy as np
import pytest
from reliability_helpers import user_error

from fakedata import write_image_tree
from helpers import free_port


def _photos(tmp_path: Path) -> Path:
    write_image_tree(tmp_path / "photos", per_class=2)
    return tmp_path / "photos"


def _shard(photos: Path, output: str, *flags: str) -> list[str]:
    return ["shard", "--dataset", "imagefolder", "--data-dir", str(photos), "--output", output, *flags]


def test_missing_bucket_names_the_url(tmp_path: Path, s3_server: str, capsys) -> None:
    msg, _ = user_error(_shard(_photos(tmp_path), "s3://nosuchbucket/x"), capsys)
    assert "s3://nosuchbucket/x" in msg and "bucket does not exist" in msg


def test_wrong_credentials_name_the_url(tmp_path: Path, s3_server: str, capsys, monkeypatch) -> None:
    import moto.settings

    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket="shards")
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # check every key from now on
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAREALKEY00000")
    msg, _ = user_error(_shard(_photos(tmp_path), "s3://shards/x"), capsys)
    assert "s3://shards/x" in msg and "credentials rejected" in msg


def test_endpoint_that_does_not_answer(tmp_path: Path, capsys, monkeypatch) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for key, value in {
        "AWS_ENDPOINT_URL": dead,
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
    }.items():
        monkeypatch.setenv(key, value)
    msg, _ = user_error(_shard(_photos(tmp_path), "s3://shards/x"), capsys)
    assert "s3://shards/x" in msg and dead in msg and "does not answer" in msg


def test_output_of_another_dataset(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit):
        from litrain.cli import main

        main(["shard", "--dataset", "digits", "--output", str(out), "--shard-size", "1000"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    msg, _ = user_error(_shard(_photos(tmp_path), str(out)), capsys)
    assert "another data set or written with other options" in msg and str(out) in msg
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing overwritten


def test_tars_without_an_index_are_not_overwritten(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "train-000000.tar").write_bytes(b"someone else's shard")
    msg, _ = user_error(_shard(_photos(tmp_path), str(out)), capsys)
    assert "without a litrain index" in msg
    assert (out / "train-000000.tar").read_bytes() == b"someone else's shard"


def test_unknown_format(tmp_path: Path, capsys) -> None:
    msg, _ = user_error(_shard(_photos(tmp_path), str(tmp_path / "o"), "--format", "parquet"), capsys)
    assert "--format 'parquet' is unknown" in msg and "webdataset, litdata" in msg


def test_no_samples(tmp_path: Path, capsys) -> None:
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 4), np.float32), y=np.zeros((0,), np.int64))
    msg, _ = user_error(
        ["shard", "--dataset", "arrays", "--data-dir", str(tmp_path / "empty.npz"), "--output", "o"], capsys
    )
    assert "holds no samples" in msg
    assert not Path("o").exists()


def test_missing_optional_dependency_names_the_extra(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "webdataset", None)  # import fails as if not installed
    msg, _ = user_error(_shard(_photos(tmp_path), str(tmp_path / "o")), capsys)
    assert "webdataset" in msg and "pip install litrain[stream]" in msg


def test_upload_only_refuses_a_shard_that_disagrees_with_its_index(
    tmp_path: Path, s3_server: str, capsys
) -> None:
    local = tmp_path / "local"
    from litrain.cli import main

    with pytest.raises(SystemExit):
        main(_shard(_photos(tmp_path), str(local), "--shard-size", "2"))
    shard = local / "train-000001.tar"
    shard.write_bytes(shard.read_bytes()[:-1024])  # a truncated copy
    s3 = boto3.client("s3", endpoint_url=s3_server)
    s3.create_bucket(Bucket="shards")
    msg, _ = user_error(
        ["shard", "--upload-only", "--data-dir", str(local), "--output", "s3://shards/up"], capsys
    )
    assert "train-000001.tar does not match train.index.json" in msg
    assert "Contents" not in s3.list_objects_v2(Bucket="shards")  # nothing uploaded
