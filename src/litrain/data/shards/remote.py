"""Shards to and from any fsspec URL (``s3://bucket/prefix``, ``gs://``, ...).

S3 endpoints and credentials come from the usual AWS variables (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ...) or ``data.storage_options``, so MinIO and other S3-compatible
stores work. Retries and timeouts are bounded: a wrong endpoint fails in seconds with one
line naming the URL, not after botocore's minutes of backoff."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litrain.data.shards.index import (
    ShardIndex,
    dumps,
    index_name,
    loads,
    progress_name,
    read_index,
    verified,
)
from litrain.data.shards.write_options import SplitResult
from litrain.errors import ConfigError, DataError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


INSTALL_HINT = "pip install litrain[stream]"
# botocore: connect/read timeouts in seconds; "standard" retries, 3 attempts in all.
S3_CONFIG = {"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 3, "mode": "standard"}}


def require(module: str) -> Any:
    """An optional dependency of the ``stream`` extra, or one line naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"shards need {module}, which is not installed: {INSTALL_HINT}") from None


def _s3_options(storage_options: dict[str, Any]) -> dict[str, Any]:
    opts = dict(storage_options)
    config = {**S3_CONFIG, **opts.get("config_kwargs", {})}
    opts["config_kwargs"] = config
    opts.setdefault("use_listings_cache", False)  # we check what exists after writing it
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint and "endpoint_url" not in opts and "endpoint_url" not in opts.get("client_kwargs", {}):
        opts["endpoint_url"] = endpoint
    return opts


def filesystem(url: str, storage_options: dict[str, Any]) -> tuple[AbstractFileSystem, str]:
    """(file system, root path inside it) for ``url``; a scheme without its package names it."""
    fsspec = require("fsspec")
    scheme = url.split("://", 1)[0]
    if scheme in ("s3", "s3a"):
        require("s3fs")
        storage_options = _s3_options(storage_options)
    try:
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
    except (ImportError, ValueError) as exc:
        raise ConfigError(
            f"{url}: no file system for {scheme}:// ({exc}); install its fsspec package"
        ) from None
    return fs, root.rstrip("/")


def _endpoint(storage_options: dict[str, Any]) -> str:
    given = storage_options.get("endpoint_url") or storage_options.get("client_kwargs", {}).get(
        "endpoint_url"
    )
    return given or os.environ.get("AWS_ENDPOINT_URL") or "the default endpoint"


def describe_error(url: str, exc: BaseException, storage_options: dict[str, Any] | None = None) -> str:
    """One line for what went wrong talking to ``url``."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, FileNotFoundError) or "NoSuchBucket" in text:
        return f"{url}: the bucket does not exist: create it, or fix the bucket name"
    if isinstance(exc, PermissionError) or any(
        s in text for s in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden")
    ):
        return (
            f"{url}: access denied (credentials rejected): check AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY or data.storage_options key/secret"
        )
    if any(
        s in text
        for s in ("EndpointConnectionError", "ConnectTimeout", "ReadTimeout", "Connect", "timed out")
    ):
        endpoint = _endpoint(storage_options or {})
        return (
            f"{url}: the endpoint ({endpoint}) does not answer: check AWS_ENDPOINT_URL or "
            "data.storage_options endpoint_url, and that the server runs"
        )
    return f"{url}: {text.splitlines()[0]}"


def check_output(url: str, storage_options: dict[str, Any]) -> None:
    """Fail before any work when the bucket is missing, the credentials wrong or the
    endpoint silent."""
    fs, root = filesystem(url, storage_options)
    bucket = root.split("/", 1)[0]
    try:
        fs.ls(bucket, detail=False, refresh=True)
    except Exception as exc:
        raise DataError(describe_error(url, exc, storage_options)) from None


def _read_remote_index(
    fs: AbstractFileSystem, path: str, url: str, storage_options: dict[str, Any]
) -> ShardIndex | None:
    try:
        if not fs.exists(path):
            return None
        return loads(fs.cat_file(path), f"{url}/{path.rsplit('/', 1)[-1]}")
    except DataError:
        raise
    except Exception as exc:
        raise DataError(describe_error(url, exc, storage_options)) from None


def _files_of(index: ShardIndex) -> list[str]:
    """Files to upload for one split, relative to ``local``; the index itself last."""
    names = [s.name for s in index.shards]
    if index.layout == "litdata":
        names.append(f"{index.split}/index.json")  # LitData's own index of its chunks
    return names


def upload_dir(local: Path, url: str, storage_options: dict[str, Any]) -> dict[str, SplitResult]:
    """Upload a local shard dir: each split's shards are checked against its index first;
    shards the remote index (or the progress record an interrupted upload left) lists with
    the same checksum and size are skipped; each remote index is written last, after the
    shards it names."""

    indexes = sorted(local.glob("*.index.json"))
    if not local.is_dir() or not indexes:
        raise DataError(
            f"{local} holds no shard index (*.index.json): write shards there with `litrain shard`"
        )
    fs, root = filesystem(url, storage_options)
    check_output(url, storage_options)
    results: dict[str, SplitResult] = {}
    for path in indexes:
        index = read_index(path)
        for entry in index.shards:
            if not verified(local / entry.name, entry):
                raise DataError(
                    f"{local / entry.name} does not match {path.name} (missing, or its size or SHA-256 "
                    f"differs): rerun `litrain shard --output {local}` before uploading"
                )
        # What an earlier upload left: its index, or the progress record of an interrupted one.
        done: set[tuple[str, str]] = set()
        for record in (index_name(index.split), progress_name(index.split)):
            remote = _read_remote_index(fs, f"{root}/{record}", url, storage_options)
            if remote is not None and remote.fingerprint != index.fingerprint:
                raise DataError(
                    f"{url} already holds {index.split} shards of another data set or written with "
                    f"other options ({record} differs): choose another prefix, or delete them"
                )
            done |= {(s.name, s.sha256) for s in remote.shards} if remote else set()
        written = []
        uploaded = ShardIndex(**{**index.__dict__, "shards": []})
        try:
            for name in _files_of(index):
                entry = next((s for s in index.shards if s.name == name), None)
                target = f"{root}/{name}"
                present = entry and (name, entry.sha256) in done and fs.exists(target)
                if not (present and fs.size(target) == entry.bytes):
                    fs.put_file(str(local / name), target)
                    written.append(name)
                if entry:  # a record per shard: a rerun after a kill skips what is up
                    uploaded.shards.append(entry)
                    fs.pipe_file(f"{root}/{progress_name(index.split)}", dumps(uploaded))
            fs.pipe_file(f"{root}/{index_name(index.split)}", dumps(index))
            fs.rm_file(f"{root}/{progress_name(index.split)}")
        except Exception as exc:
            raise DataError(describe_error(url, exc, storage_options)) from None
        shard_names = {s.name for s in index.shards}
        results[index.split] = SplitResult(index, [n for n in written if n in shard_names])
    return results
