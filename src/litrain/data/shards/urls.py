"""Shard URLs: brace patterns expanded, local paths checked, remote filesystems opened.

Local paths and ``file://`` are read in place; any other scheme (``s3://``, ``http(s)://``,
``gs://``, ...) goes through fsspec and is copied into the cache first (``cache.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from litrain.errors import DataError

STREAM_EXTRA = "pip install 'litrain[stream]'"
# Bounded waits for an object store that does not answer: a few seconds and two tries, not
# botocore's defaults (60 s connect timeout, retried), so a wrong endpoint fails quickly.
S3_DEFAULTS: dict[str, Any] = {
    "config_kwargs": {"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 2}},
}


def scheme(url: str) -> str:
    head, sep, _ = url.partition("://")
    return head.lower() if sep else "file"


def is_remote(url: str) -> bool:
    return scheme(url) != "file"


def local_path(url: str) -> Path:
    return Path(url.removeprefix("file://")).expanduser()


def listed_names(names: list[str]) -> str:
    """Shard names, short: all of up to 4, else the first two, ... and the last."""
    if len(names) <= 4:
        return ", ".join(names)
    return f"{names[0]}, {names[1]}, ..., {names[-1]} ({len(names)} shards)"


def expand(urls: list[str] | str | None, key: str) -> list[str]:
    """Every shard URL of ``data.<key>`` in order; local shards must exist."""
    import braceexpand

    if urls is None:
        return []
    patterns = [urls] if isinstance(urls, str) else list(urls)
    out: list[str] = []
    for pattern in patterns:
        found = list(braceexpand.braceexpand(pattern))
        local = [u for u in found if not is_remote(u)]
        missing = [u for u in local if not local_path(u).is_file()]
        if local and len(missing) == len(local):
            folder = local_path(missing[0]).parent
            there = sorted(p.name for p in folder.glob("*.tar")) if folder.is_dir() else []
            held = f"; {folder} holds {listed_names(there)}" if there else ""
            raise DataError(
                f"data.{key}={pattern!r} matches no file (first: {missing[0]}){held}: check the path "
                "and the brace range, e.g. train-{000000..000099}.tar"
            )
        if missing:
            raise DataError(
                f"data.{key}={pattern!r}: {len(missing)} of {len(local)} shards are missing "
                f"(first: {missing[0]}): fix the brace range or copy the missing shards"
            )
        out.extend(found)
    if patterns and not out:
        raise DataError(f"data.{key} lists no shard: give a path, a brace pattern or a list")
    return out


def filesystem(url: str, storage_options: dict[str, Any]) -> Any:
    """The fsspec filesystem for a remote ``url``; one line naming the extra when missing."""
    try:
        import fsspec
    except ImportError:
        raise DataError(f"reading {url} needs fsspec: {STREAM_EXTRA}") from None
    proto = scheme(url)
    options = dict(storage_options)
    if proto in ("s3", "s3a"):
        options = {**S3_DEFAULTS, **options}
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint and "endpoint_url" not in options:
            options["endpoint_url"] = endpoint
    try:
        return fsspec.filesystem(proto, **options)
    except (ImportError, ValueError) as exc:
        raise DataError(
            f"no filesystem for {proto}:// ({url}): {_first_line(exc)}; install it with {STREAM_EXTRA}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
