"""Bad shard input through the CLI: one ``litrain: error:`` line that says what to change,
exit code 2, no traceback. S3 cases run against a real moto server on localhost."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from reliability_helpers import user_error

from helpers import free_port
from litrain.data.shards.cache import fetched
from litrain.data.shards.index import ShardEntry, ShardIndex, write_index
from shard_data import write_shards

FLAGS = ["--quiet", "--set=data.source=shards", "--set=trainer.max_epochs=1", "--set=data.batch_size=4"]


def _fail(tmp_path: Path, capsys, urls: str, *extra: str) -> str:
    argv = ["fit", *FLAGS, f"--run-dir={tmp_path / 'run'}", f"--set=data.cache_dir={tmp_path / 'cache'}"]
    message, _ = user_error([*argv, f"--set=data.train_urls={urls}", *extra], capsys)
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
    return message


def test_brace_pattern_matching_nothing(tmp_path, capsys):
    write_shards(tmp_path, [4])
    msg = _fail(tmp_path, capsys, str(tmp_path / "train-{000010..000019}.tar"))
    assert "matches no file" in msg and "train-000010.tar" in msg


def test_scheme_without_a_filesystem_names_the_extra(tmp_path, capsys):
    msg = _fail(tmp_path, capsys, "nosuchfs://bucket/train-000000.tar")
    assert "nosuchfs://" in msg and "pip install 'litrain[stream]'" in msg


def test_shard_without_the_label_member(tmp_path, capsys):
    path = tmp_path / "train-000000.tar"
    src = write_shards(tmp_path / "src", [3], kind="jpg")[0]
    with tarfile.open(src) as tin, tarfile.open(path, "w") as tout:
        for m in tin:
            if m.name.endswith(".jpg"):
                tout.addfile(m, tin.extractfile(m))
    msg = _fail(tmp_path, capsys, str(path))
    assert "no label member" in msg and str(path) in msg


def test_mixed_image_sizes_without_image_size(tmp_path, capsys):
    write_shards(tmp_path, [6], kind="png", sizes=[8, 12])
    msg = _fail(tmp_path, capsys, str(tmp_path / "train-000000.tar"))
    assert "different sizes" in msg and "data.image_size" in msg


def test_index_that_disagrees_with_the_shard(tmp_path, capsys):
    write_shards(tmp_path, [5, 6])
    entries = [ShardEntry("train-000000.tar", 5, 0, ""), ShardEntry("train-000001.tar", 7, 0, "")]
    write_index(tmp_path / "train.index.json", ShardIndex("train", "npy", "cls", shards=entries))
    msg = _fail(tmp_path, capsys, str(tmp_path / "train-{000000..000001}.tar"), "--set=data.num_workers=0")
    assert "train-000001.tar holds 6 samples" in msg and "says 7" in msg


def test_truncated_shard_names_it_and_skip_trains_on(tmp_path, capsys, caplog):
    _, bad = write_shards(tmp_path, [8, 8])
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    urls = str(tmp_path / "train-{000000..000001}.tar")
    msg = _fail(tmp_path, capsys, urls)
    assert f"shard {bad}" in msg and "truncated or corrupt" in msg and "on_bad_sample=skip" in msg

    import litrain

    result = litrain.fit(
        run_dir=tmp_path / "skip",
        quiet=True,
        **{
            "data.source": "shards",
            "data.train_urls": urls,
            "data.on_bad_sample": "skip",
            "data.batch_size": 4,
            "data.cache_dir": str(tmp_path / "cache2"),
            "trainer.max_epochs": 1,
        },
    )
    assert result.summary["steps"] >= 2  # the good shard and what is left of the bad one


def test_full_cache_dir(tmp_path, capsys, http_server):
    write_shards(tmp_path / "www", [20, 20], kind="jpg")
    urls = f"{http_server.url}/train-{{000000..000001}}.tar"
    msg = _fail(tmp_path, capsys, urls, "--set=data.cache_limit_gb=0.00001")
    assert "is full" in msg and "data.cache_limit_gb" in msg
    assert fetched(tmp_path / "cache") == []  # stopped before downloading anything


@pytest.fixture
def bucket(tmp_path, s3_server) -> str:
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_server)
    fs.mkdir("shards")
    for path in write_shards(tmp_path / "local", [6]):
        fs.put_file(str(path), f"shards/{path.name}")
    return "s3://shards/train-000000.tar"


def test_s3_missing_bucket(tmp_path, capsys, bucket):
    msg = _fail(tmp_path, capsys, "s3://no-such-bucket/train-000000.tar")
    assert "s3://no-such-bucket/train-000000.tar" in msg and "not found" in msg


def test_s3_wrong_credentials(tmp_path, capsys, bucket, monkeypatch):
    from moto import settings

    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks keys from now on
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "wrong")
    msg = _fail(tmp_path, capsys, bucket)
    assert bucket in msg and "access denied" in msg


def test_s3_endpoint_that_does_not_answer(tmp_path, capsys, bucket, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    msg = _fail(tmp_path, capsys, bucket)
    assert bucket in msg and "endpoint" in msg


def test_brace_range_of_another_width_says_the_files_do_not_exist_not_a_stale_index(
    tmp_path, capsys, http_server
):
    # the guide's 4-digit range against 6-digit shards written with an index: the index is good
    write_shards(http_server.root, [4, 4, 4, 4, 4], kind="png")
    entries = [ShardEntry(f"train-{i:06d}.tar", 4, 0, "") for i in range(5)]
    write_index(http_server.root / "train.index.json", ShardIndex("train", "png", "cls", shards=entries))
    msg = _fail(tmp_path, capsys, f"{http_server.url}/train-{{0000..0004}}.tar")
    assert "names shards that do not exist" in msg and f"{http_server.url}/train-0000.tar and 4 more" in msg
    assert "lists train-000000.tar, train-000001.tar, ..., train-000004.tar (5 shards)" in msg
    assert "stale" not in msg and "delete" not in msg
    assert (http_server.root / "train.index.json").is_file()


def test_local_brace_range_matching_nothing_shows_the_shards_that_are_there(tmp_path, capsys):
    write_shards(tmp_path, [2, 2])
    msg = _fail(tmp_path, capsys, str(tmp_path / "train-{0000..0001}.tar"))
    assert "matches no file" in msg and "holds train-000000.tar, train-000001.tar" in msg
