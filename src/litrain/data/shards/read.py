"""The shard reader: an IterableDataset that yields whole batches.

Each rank reads its own contiguous run of the epoch's global sample sequence
(``partition.py``): every rank gets the same number of batches and the epoch length is known
before reading. The rank's batches are cut from that run before the loader's workers share
them out round-robin (worker w of W builds batches w, w+W, ...), so a batch holds the same
samples with 0, 1, 2 or 8 workers. Members are read by offset, many samples per read() call, from the local (or
cached) shard, decoded on the worker with torchvision's decoders, stacked, and converted to
float and normalized once per batch; only augmentation runs per sample, seeded by (seed,
epoch, position) so it is the same with any number of workers and after a resume.

Mid-epoch resume: ``state_dict`` is (epoch, samples emitted) of the reader in this
process; ``StatefulDataLoader`` snapshots it per worker with every batch and hands it back
on resume, and the reader starts again at the next unseen sample (the shuffle buffer's order
is computed on positions, so nothing before that point is read again).

The epoch reaches the workers through a small shared-memory tensor: ``set_epoch`` (called
on the loader's sampler by either engine, see ``loader.py``) writes it in the main process
and persistent workers read it when the next epoch starts. Ranks are read in the main
process too (worker processes have no process group).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import IterableDataset, get_worker_info

from litrain.core.dist import rank_and_world
from litrain.data.shards import partition
from litrain.data.shards.cache import ShardCache
from litrain.data.shards.catalog import ShardSet, shard_table
from litrain.data.shards.decode import decode, pack_targets, read_label
from litrain.data.transforms import Transform
from litrain.errors import DataError

log = logging.getLogger(__name__)
CHUNK = 128  # samples read from a shard per read() call


@dataclass
class ReadSpec:
    batch_size: int
    train: bool
    shuffle_buffer: int = 0
    skip_bad: bool = False
    channels: int | None = None  # 1 or 3 for images (fixed by the first image)
    shape: tuple[int, ...] | None = None  # every sample's (C, H, W) after resizing
    image_size: int | None = None
    heads: dict[str, int] | None = None  # .json targets: the heads' widths, in column order
    to_float: bool = True  # False: uint8 images as decoded (benchmarks)


class ShardDataset(IterableDataset):
    # litrain.data.sharding leaves this dataset alone: it reads its rank's share itself.
    reads_rank_itself = True

    def __init__(self, shards: ShardSet, spec: ReadSpec, cache: ShardCache) -> None:
        self.shards, self.spec, self.cache = shards, spec, cache
        self.seed = 0
        self.mean: torch.Tensor | None = None
        self.std: torch.Tensor | None = None
        self.augment: Transform | None = None  # flip/crop, on normalized samples
        self.pixel_augment: Transform | None = None  # colour/policy ops, on [0, 1] pixels first
        # epoch, rank, world: shared with the loader's (persistent) workers
        self._ctl = torch.tensor([0, 0, 1], dtype=torch.int64).share_memory_()
        self._consumed = 0
        self._resume: dict[str, int] | None = None
        self._noted = False

    # -- what the loader and the engines call -------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        self._ctl[0] = epoch
        self._read_ranks()

    @property
    def epoch(self) -> int:
        return int(self._ctl[0])

    def _read_ranks(self) -> tuple[int, int]:
        if get_worker_info() is None:
            rank, world = rank_and_world()
            self._ctl[1], self._ctl[2] = rank, world
        return int(self._ctl[1]), int(self._ctl[2])

    def __len__(self) -> int:
        """Batches this rank yields in an epoch."""
        rank, world = self._read_ranks()
        start, stop = partition.rank_span(
            self.shards.total, rank, world, self.spec.batch_size, self.spec.train
        )
        if self.spec.train and stop == start and self.shards.total:
            raise DataError(
                f"data.batch_size={self.spec.batch_size} on {world} rank(s) needs at least "
                f"{world * self.spec.batch_size} training samples, the shards hold {self.shards.total}: "
                "lower data.batch_size"
            )
        if self.spec.train and not self._noted and rank == 0:
            self._noted = True
            dropped = self.shards.total - world * (stop - start)
            if dropped:
                log.warning(
                    "shards: %d of %d training samples are left out of each epoch (the tail of that "
                    "epoch's shard order) so that each of %d rank(s) runs %d full batches of %d",
                    dropped,
                    self.shards.total,
                    world,
                    (stop - start) // self.spec.batch_size,
                    self.spec.batch_size,
                )
        return -(-(stop - start) // self.spec.batch_size)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "consumed": self._consumed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._resume = dict(state)

    # -- reading ---------------------------------------------------------------------------------
    def _plan(self) -> tuple[list[partition.Piece], list[list[int]], int]:
        """This rank's pieces of shards, this worker's batches (positions counted from the
        rank's first sample) and how many of their samples it emitted before a resume.

        The rank's batches are fixed before the workers get them (one shuffle-buffer order of
        the whole rank span, cut into batches); worker w of W takes batches w, w+W, ..., the
        order in which the loader collects them, so the batches are the same with any number
        of workers."""
        rank, world = self._read_ranks()
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        epoch, spec = self.epoch, self.spec
        order = partition.shard_order(len(self.shards.urls), self.seed, epoch, spec.train)
        span = partition.rank_span(self.shards.total, rank, world, spec.batch_size, spec.train)
        pieces = partition.pieces(self.shards.counts, order, span)
        buffer = spec.shuffle_buffer if spec.train else 0
        key = f"{self.seed}:{epoch}:{rank}:0"  # the reader's key when each rank had one worker
        emit = list(partition.buffered_order(span[1] - span[0], buffer, key))
        bs = spec.batch_size
        batches = [emit[i : i + bs] for i in range(0, len(emit), bs)][worker::workers]
        skip = 0
        if self._resume is not None:
            if self._resume.get("epoch") == epoch:
                skip = int(self._resume["consumed"])
            self._resume = None
        self._base = span[0]  # global position of the rank's first sample (augment seeds)
        return pieces, batches, skip

    def _raw(
        self, pieces: list[partition.Piece], wanted: Iterable[int] | None = None
    ) -> Iterator[tuple[int, Any]]:
        """(position, (shard url, sample key, {ext: bytes} or None)) for the positions in
        ``wanted`` (ascending; None: all), in reading order; positions count from the first
        piece's first sample. Each run of wanted samples in a shard is one read() call."""
        if wanted is None:
            wanted = range(sum(p.stop - p.start for p in pieces))
        it = iter(wanted)
        nxt = next(it, None)
        pos = 0
        for piece in pieces:
            n = piece.stop - piece.start
            mine: list[int] = []  # wanted sample indices inside this shard
            while nxt is not None and nxt < pos + n:
                mine.append(piece.start + nxt - pos)
                nxt = next(it, None)
            if mine:
                url = self.shards.urls[piece.shard]
                table = shard_table(self.shards, piece.shard, self.cache, strict=not self.spec.skip_bad)
                path = self.cache.local(url, self.shards.sha256[piece.shard])
                with open(path, "rb") as f:
                    for lo, hi in _runs(mine, CHUNK):
                        real = min(hi, max(lo, len(table)))
                        chunk = self._chunk(f, table, lo, real)
                        for i in range(lo, real):
                            yield pos + i - piece.start, (url, table.keys[i], chunk[i - lo])
                        for i in range(max(lo, real), hi):  # lost to truncation
                            yield pos + i - piece.start, (url, f"#{i}", None)
            if nxt is None:
                return
            pos += n

    @staticmethod
    def _chunk(f: Any, table: Any, lo: int, hi: int) -> list[dict[str, memoryview]]:
        """Samples lo..hi-1 of a shard with one read: members as views into that buffer
        (decoders take them without another copy)."""
        if lo >= hi:
            return []
        spans = [span for members in table.members[lo:hi] for span in members.values()]
        base = min(o for o, _ in spans)
        buf = bytearray(max(o + n for o, n in spans) - base)
        f.seek(base)
        f.readinto(buf)
        view = memoryview(buf)
        return [
            {ext: view[o - base : o - base + n] for ext, (o, n) in m.items()} for m in table.members[lo:hi]
        ]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        pieces, batches, skip = self._plan()
        self._consumed = skip
        todo: list[list[int]] = []
        left = skip
        for batch in batches:  # the batches (or the part of one) not emitted before a resume
            if left < len(batch):
                todo.append(batch[left:])
            left = max(0, left - len(batch))
        if not todo:
            return
        reader = self._raw(pieces, sorted(p for batch in todo for p in batch))
        held: dict[int, Any] = {}
        for batch in todo:
            xs: list[torch.Tensor] = []
            ys: list[Any] = []
            ps: list[int] = []
            for target in batch:
                while target not in held:
                    p, raw = next(reader)
                    held[p] = raw
                sample = self._sample(*held.pop(target))
                if sample is not None:
                    xs.append(sample[0])
                    ys.append(sample[1])
                    ps.append(target)
                self._consumed += 1
            if xs:
                yield self._collate(xs, ys, ps)

    def _bad(self, url: str, key: str, why: str) -> None:
        msg = f"shard {url} sample {key}: {why}"
        if not self.spec.skip_bad:
            raise DataError(
                f"{msg}; replace the shard, or set data.on_bad_sample=skip to leave such samples out"
            )
        self.skipped = getattr(self, "skipped", 0) + 1
        log.warning("skipped bad sample %d: %s", self.skipped, msg)

    def _sample(self, url: str, key: str, raw: dict[str, Any] | None) -> tuple[torch.Tensor, Any] | None:
        spec, member, label = self.spec, self.shards.member, self.shards.label
        if raw is None:
            self._bad(url, key, "lost: the shard is truncated")
            return None
        if member not in raw or label not in raw:
            missing = member if member not in raw else label
            self._bad(url, key, f"has no .{missing} member (it has {sorted(raw)})")
            return None
        try:
            x = decode(member, raw[member], spec.channels)
            y = read_label(label, raw[label])
            if spec.heads is not None:
                y = pack_targets(y, spec.heads)  # type: ignore[arg-type]
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            self._bad(url, f"{key}.{member}", f"cannot decode ({str(exc).strip().splitlines()[0]})")
            return None
        if spec.image_size and x.shape[-2:] != (spec.image_size, spec.image_size):
            from torchvision.transforms.v2.functional import resize

            x = resize(x, [spec.image_size, spec.image_size], antialias=True)
        if spec.shape is not None and tuple(x.shape) != spec.shape:
            raise DataError(
                f"shard {url} sample {key}.{member} is {tuple(x.shape)} (channels, height, width) but "
                f"the first image is {spec.shape}: set data.image_size to resize every image to one size"
            )
        return x, y

    def _collate(
        self, xs: list[torch.Tensor], ys: list[Any], ps: list[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.stack(xs)
        if self.spec.heads is not None:
            y = torch.tensor(ys, dtype=torch.float32)
        else:
            y = torch.tensor(ys, dtype=torch.long)
        if not self.spec.to_float:
            return x, y
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        if self.pixel_augment is not None:  # per sample: pixel ops, normalization, flip/crop
            return torch.stack([self._augment(xi, p) for xi, p in zip(x, ps, strict=True)]), y
        if self.mean is not None and self.std is not None:
            x = (x - self.mean) / self.std
        if self.augment is not None:
            x = torch.stack([self._augment(xi, p) for xi, p in zip(x, ps, strict=True)])
        return x, y

    def _augment(self, x: torch.Tensor, pos: int) -> torch.Tensor:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed((self.seed * 1_000_003 + self.epoch) * 2_147_483_647 + self._base + pos)
            if self.pixel_augment is None:
                return self.augment(x)  # type: ignore[misc]
            x = self.pixel_augment(x)
            if self.mean is not None and self.std is not None:
                x = (x - self.mean) / self.std
            return self.augment(x) if self.augment is not None else x


def _runs(indices: list[int], most: int) -> Iterator[tuple[int, int]]:
    """[lo, hi) runs of consecutive ``indices`` (ascending), each at most ``most`` long."""
    lo = prev = None
    for i in indices:
        if lo is not None and i == prev + 1 and i - lo < most:  # type: ignore[operator]
            prev = i
            continue
        if lo is not None:
            yield lo, prev + 1  # type: ignore[operator]
        lo = prev = i
    if lo is not None:
        yield lo, prev + 1  # type: ignore[operator]
