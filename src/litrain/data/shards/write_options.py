"""What ``litrain shard`` is asked to do, and what it reports per split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litrain.data.shards.index import ShardIndex
from litrain.errors import ConfigError

FORMATS = ("webdataset", "litdata")


@dataclass
class ShardOptions:
    output: str
    format: str = "webdataset"
    shard_size: int | None = None  # samples per shard
    max_shard_bytes: int | None = None
    quality: int = 95  # jpg/webp when re-encoding
    workers: int = 0  # encoding processes (0: in this process)
    upload_only: bool = False
    storage_options: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"--format {self.format!r} is unknown; choose from {', '.join(FORMATS)}")
        if self.shard_size is not None and self.shard_size < 1:
            raise ConfigError(f"--shard-size {self.shard_size}: write at least 1 sample per shard")
        if self.max_shard_bytes is not None and self.max_shard_bytes < 1:
            raise ConfigError(f"--max-shard-bytes {self.max_shard_bytes}: must be positive")
        if not 1 <= self.quality <= 100:
            raise ConfigError(f"--quality {self.quality}: choose 1..100")
        if self.workers < 0:
            raise ConfigError(f"--workers {self.workers}: choose 0 or more")
        if self.shard_size is None and self.max_shard_bytes is None:
            self.shard_size = 10000  # WebDataset's usual: shards of a few hundred MB for images


@dataclass
class SplitResult:
    index: ShardIndex
    written: list[str]  # shard names written by this run (the others were kept)
