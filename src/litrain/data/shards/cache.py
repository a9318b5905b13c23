"""The local copy of remote shards.

A remote shard is downloaded whole, once, into ``data.cache_dir`` (a temp file renamed into
place, so a killed download never looks complete) and read from there in every later epoch
and run: a second epoch reads nothing remote. When the index gives a shard's sha256 the
copy is checked against it. Each download appends one line to ``fetched.log`` in the cache
dir (what was fetched, when), which also lets a run's remote reads be counted.

The size limit (``data.cache_limit_gb``) is checked before training starts: a run whose
shards do not fit stops with an error rather than evicting and downloading again every
epoch. Entries are keyed by URL: clear the dir when the shards behind a URL change.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: no lock, each process may download its own copy
    fcntl = None  # type: ignore[assignment]

from litrain.core.atomic import atomic_open
from litrain.data.shards.urls import _first_line, filesystem, is_remote, local_path
from litrain.errors import DataError

FETCH_LOG = "fetched.log"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litrain" / "shards"


def _remote_error(url: str, exc: BaseException) -> DataError:
    if isinstance(exc, FileNotFoundError):
        why = "not found (check the bucket and key, and that the upload finished)"
    elif isinstance(exc, PermissionError):
        why = "access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or data.storage_options)"
    else:
        why = (
            f"{_first_line(exc)} (check the endpoint: AWS_ENDPOINT_URL or data.storage_options.endpoint_url)"
        )
    return DataError(f"cannot read {url}: {why}")


class ShardCache:
    def __init__(self, cache_dir: str | None, limit_gb: float, storage_options: dict[str, Any]) -> None:
        self.root = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self.limit = int(limit_gb * 2**30)
        self.storage_options = storage_options

    def entry(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode()).hexdigest()[:24]
        return self.root / "data" / f"{digest}-{Path(url.split('?')[0]).name}"

    def cached(self, url: str) -> bool:
        return not is_remote(url) or self.entry(url).is_file()

    def used_bytes(self) -> int:
        folder = self.root / "data"
        return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0

    def remote_size(self, url: str) -> int:
        try:
            return int(filesystem(url, self.storage_options).size(url))
        except DataError:
            raise
        except Exception as exc:
            raise _remote_error(url, exc) from None

    def check_room(self, sizes: dict[str, int]) -> None:
        """Stop now if the shards not cached yet would take the cache over its limit."""
        needed = sum(size for url, size in sizes.items() if not self.cached(url))
        used = self.used_bytes()
        if needed and used + needed > self.limit:
            raise DataError(
                f"data.cache_dir {self.root} is full: it holds {used / 2**30:.2f} GiB and the shards "
                f"need {needed / 2**30:.2f} GiB more, over data.cache_limit_gb={self.limit / 2**30:g}: "
                "raise data.cache_limit_gb, free the dir, or point data.cache_dir elsewhere"
            )

    def local(self, url: str, sha256: str | None = None) -> Path:
        """A local file with the shard's bytes: the path itself, or the cached copy."""
        if not is_remote(url):
            return local_path(url)
        path = self.entry(url)
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(path):
            if path.is_file():  # another process of this node fetched it meanwhile
                return path
            return self._fetch(url, path, sha256)

    @staticmethod
    @contextlib.contextmanager
    def _lock(path: Path) -> Iterator[None]:
        with open(path.with_name(f".{path.name}.lock"), "a") as f:
            if fcntl is not None:
                fcntl.flock(f, fcntl.LOCK_EX)  # released on close, and by the OS if killed
            yield

    def _fetch(self, url: str, path: Path, sha256: str | None) -> Path:
        with atomic_open(path, "wb") as dst:  # a failed or wrong download leaves no file
            try:
                with filesystem(url, self.storage_options).open(url, "rb") as src:
                    digest = hashlib.sha256()
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        dst.write(chunk)
            except DataError:
                raise
            except Exception as exc:
                raise _remote_error(url, exc) from None
            if sha256 and digest.hexdigest() != sha256:
                raise DataError(
                    f"{url}: its sha256 differs from the index: the upload is incomplete or the "
                    "index is stale; upload the shard again"
                )
        with open(self.root / FETCH_LOG, "a") as log:  # one short append: atomic across workers
            log.write(f"{time.time():.3f} {url}\n")
        return path


def fetched(cache_dir: str | Path) -> list[str]:
    """The URLs downloaded into ``cache_dir`` so far, one per download."""
    log = Path(cache_dir) / FETCH_LOG
    return [line.split(" ", 1)[1] for line in log.read_text().splitlines()] if log.is_file() else []
