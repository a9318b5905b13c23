"""Training from remote shards against real servers on localhost: S3 (moto's server) and a
plain HTTP server. Remote shards are downloaded once into data.cache_dir; the cache's
fetch log counts every remote read, and a second run with the endpoint gone still trains."""

from __future__ import annotations

import shutil
from pathlib import Path

import litrain
from helpers import free_port
from litrain.data.shards.cache import fetched
from shard_data import write_shards


def _upload(local: list[Path], endpoint: str, prefix: str) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=endpoint, key="testing", secret="testing")
    fs.mkdir(prefix.split("/")[0])
    for path in local:
        fs.put_file(str(path), f"{prefix}/{path.name}")


def _fit(tmp_path: Path, name: str, **data) -> litrain.Result:  # type: ignore[name-defined]
    cfg = {f"data.{k}": v for k, v in data.items()}
    return litrain.fit(
        run_dir=tmp_path / name,
        quiet=True,
        **{"data.source": "shards", "data.batch_size": 8, "trainer.max_epochs": 2, **cfg},
    )


def test_train_from_s3_fetches_each_shard_once(tmp_path, s3_server, monkeypatch):
    shards = write_shards(tmp_path / "local", [20, 13, 11], kind="jpg")
    val = write_shards(tmp_path / "local", [9], kind="jpg", split="val", first_id=50)
    _upload(shards + val, s3_server, "lenses/v1")
    data = {
        "train_urls": "s3://lenses/v1/train-{000000..000002}.tar",
        "val_urls": ["s3://lenses/v1/val-000000.tar"],
        "cache_dir": str(tmp_path / "cache"),
        "num_workers": 2,
    }
    result = _fit(tmp_path, "first", **data)
    assert result.summary["steps"] == 2 * (44 // 8)
    assert "val/acc" in result.summary["metrics"]
    got = fetched(tmp_path / "cache")
    assert sorted(got) == sorted(
        [f"s3://lenses/v1/train-00000{i}.tar" for i in range(3)] + [data["val_urls"][0]]
    )

    # the endpoint gone: a second run reads everything from the cache, nothing remote
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    again = _fit(tmp_path, "second", **data)
    assert again.summary["steps"] == result.summary["steps"]
    assert len(fetched(tmp_path / "cache")) == 4


def test_train_from_an_http_shard_dir(tmp_path, http_server):
    write_shards(tmp_path / "www", [12, 12], kind="png")
    result = _fit(
        tmp_path,
        "http",
        train_urls=f"{http_server.url}/train-{{000000..000001}}.tar",
        cache_dir=str(tmp_path / "cache"),
    )
    assert result.summary["steps"] == 2 * 3
    assert len(fetched(tmp_path / "cache")) == 2
    shutil.rmtree(tmp_path / "www")  # the cached copies are enough from now on
    assert (
        _fit(
            tmp_path,
            "again",
            train_urls=f"{http_server.url}/train-{{000000..000001}}.tar",
            cache_dir=str(tmp_path / "cache"),
        ).summary["steps"]
        == 6
    )
