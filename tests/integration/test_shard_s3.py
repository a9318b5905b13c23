"""``litrain shard --output s3://...`` against a real S3 API (moto's server on localhost):
the objects, their sizes and checksums match the index; --upload-only; reruns skip what is
there."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import boto3
import pytest

from fakedata import write_image_tree
from litrain.cli import main


def _run(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0


def _bucket(endpoint: str, name: str = "shards") -> object:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=name)
    return s3


def _objects(s3, bucket: str, prefix: str) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listing}


def _check_against_index(objects: dict[str, bytes], prefix: str, split: str) -> dict:
    index = json.loads(objects[f"{prefix}/{split}.index.json"])
    for entry in index["shards"]:
        body = objects[f"{prefix}/{entry['name']}"]
        assert len(body) == entry["bytes"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    return index


def test_shard_to_s3_objects_match_index(tmp_path: Path, s3_server: str) -> None:
    write_image_tree(tmp_path / "photos" / "train", per_class=4)
    write_image_tree(tmp_path / "photos" / "val", per_class=2, seed=1)
    s3 = _bucket(s3_server)
    url = "s3://shards/lens/v1"
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            str(tmp_path / "photos"),
            "--output",
            url,
            "--shard-size",
            "5",
        ]
    )
    objects = _objects(s3, "shards", "lens/v1/")
    train = _check_against_index(objects, "lens/v1", "train")
    val = _check_against_index(objects, "lens/v1", "val")
    assert [s["name"] for s in train["shards"]] == [
        "train-000000.tar",
        "train-000001.tar",
        "train-000002.tar",
    ]
    assert (train["total_samples"], val["total_samples"]) == (12, 6)
    names = {k.rsplit("/", 1)[1] for k in objects}
    assert names == {
        "train.index.json",
        "val.index.json",
        *(s["name"] for s in train["shards"] + val["shards"]),
    }

    # A rerun uploads nothing: the remote index lists every shard with the same checksum.
    before = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket="shards")["Contents"]}
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            str(tmp_path / "photos"),
            "--output",
            url,
            "--shard-size",
            "5",
        ]
    )
    after = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket="shards")["Contents"]}
    shard_keys = [k for k in before if k.endswith(".tar")]
    assert {k: after[k] for k in shard_keys} == {k: before[k] for k in shard_keys}
    assert _objects(s3, "shards", "lens/v1/") == objects


def test_upload_only_uploads_local_shards_byte_for_byte(tmp_path: Path, s3_server: str) -> None:
    write_image_tree(tmp_path / "photos", per_class=3)
    local = tmp_path / "local"
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            str(tmp_path / "photos"),
            "--output",
            str(local),
            "--shard-size",
            "4",
        ]
    )
    s3 = _bucket(s3_server)
    _run(["shard", "--upload-only", "--data-dir", str(local), "--output", "s3://shards/up"])
    objects = _objects(s3, "shards", "up/")
    local_files = {f"up/{p.name}": p.read_bytes() for p in local.iterdir()}
    assert objects == local_files
    _check_against_index(objects, "up", "train")


def test_endpoint_and_credentials_from_storage_options(tmp_path: Path, s3_server: str, monkeypatch) -> None:
    s3 = _bucket(s3_server)
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)  # only the config says where and who
    write_image_tree(tmp_path / "photos", per_class=2)
    options = f'data.storage_options={{endpoint_url: "{s3_server}", key: testing, secret: testing}}'
    argv = ["shard", "--dataset", "imagefolder", "--data-dir", str(tmp_path / "photos")]
    _run([*argv, "--output", "s3://shards/cfg", "--set", options])
    objects = _objects(s3, "shards", "cfg/")
    assert _check_against_index(objects, "cfg", "train")["total_samples"] == 6


def test_an_interrupted_upload_resumes_where_it_stopped(
    tmp_path: Path, s3_server: str, monkeypatch, capsys
) -> None:
    import s3fs

    write_image_tree(tmp_path / "photos", per_class=4)
    local = tmp_path / "local"
    _run(
        [
            "shard",
            "--dataset",
            "imagefolder",
            "--data-dir",
            str(tmp_path / "photos"),
            "--output",
            str(local),
            "--shard-size",
            "3",
        ]
    )
    s3 = _bucket(s3_server)
    real_put, puts = s3fs.S3FileSystem._put_file, []

    async def put_then_fail(self, lpath, rpath, **kwargs):  # the connection drops at the 3rd shard
        if len(puts) == 2:
            raise ConnectionResetError("connection reset by peer")
        puts.append(rpath)
        return await real_put(self, lpath, rpath, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_put_file", put_then_fail)
    s3fs.S3FileSystem.clear_instance_cache()  # instances bind their methods when made
    argv = ["shard", "--upload-only", "--data-dir", str(local), "--output", "s3://shards/up"]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="shards")["Contents"]}
    assert "up/train.index.json" not in keys and "up/train.progress.json" in keys
    first = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket="shards")["Contents"]}

    monkeypatch.setattr(s3fs.S3FileSystem, "_put_file", real_put)
    s3fs.S3FileSystem.clear_instance_cache()
    capsys.readouterr()
    _run(argv)
    assert "train: 12 samples in 4 shards (2 written, 2 kept)" in capsys.readouterr().out
    objects = _objects(s3, "shards", "up/")
    assert set(objects) == {f"up/{p.name}" for p in local.iterdir()}  # the progress record is gone
    assert all(objects[f"up/{p.name}"] == p.read_bytes() for p in local.iterdir())
    after = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket="shards")["Contents"]}
    assert after["up/train-000000.tar"] == first["up/train-000000.tar"]  # not uploaded again
