"""Which samples each rank and worker reads in an epoch: pure arithmetic, no I/O.

The epoch's shard order (shuffled by seed + epoch for training) lays every sample out in one
global sequence. Training uses its first ``world * B * (N // (world * B))`` samples: each
rank reads one contiguous block of equal length, so every rank runs the same number of
batches whatever the shard count; the rest (fewer than ``world * B`` samples, the tail of
that epoch's order) is dropped. Inside a rank, the batches are cut first and then dealt to
the loader's workers round-robin (``read.py``), so the batches do not depend on the worker
count. ``worker_span`` (contiguous runs per worker) serves the LitData reader. Evaluation drops
nothing: ranks get blocks that differ by at most one sample.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Piece:
    """Samples ``start:stop`` (positions in the shard) of shard ``shard`` (list index)."""

    shard: int
    start: int
    stop: int


def shard_order(n_shards: int, seed: int, epoch: int, shuffle: bool) -> list[int]:
    if not shuffle:
        return list(range(n_shards))
    g = torch.Generator().manual_seed(seed + epoch)
    return torch.randperm(n_shards, generator=g).tolist()


def train_batches(total: int, world: int, batch_size: int) -> int:
    """Batches every rank runs in a training epoch."""
    return total // (world * batch_size)


def rank_span(total: int, rank: int, world: int, batch_size: int, train: bool) -> tuple[int, int]:
    """[start, stop) of the global sequence that ``rank`` reads."""
    if train:
        per = train_batches(total, world, batch_size) * batch_size
        return rank * per, (rank + 1) * per
    base, extra = divmod(total, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def worker_span(span: tuple[int, int], worker: int, workers: int, batch_size: int) -> tuple[int, int]:
    """[start, stop) of a rank's span that ``worker`` reads: whole batches (the last one of
    the span may be short), so the rank's batch count is ``ceil(len(span) / batch_size)``."""
    start, stop = span
    n_batches = -(-(stop - start) // batch_size)
    first, last = worker * n_batches // workers, (worker + 1) * n_batches // workers
    return min(stop, start + first * batch_size), min(stop, start + last * batch_size)


def pieces(counts: Sequence[int], order: Sequence[int], span: tuple[int, int]) -> list[Piece]:
    """The parts of shards (in ``order``) that make up the global positions ``span``."""
    out: list[Piece] = []
    pos = 0
    for shard in order:
        lo, hi = max(span[0], pos), min(span[1], pos + counts[shard])
        if lo < hi:
            out.append(Piece(shard, lo - pos, hi - pos))
        pos += counts[shard]
        if pos >= span[1]:
            break
    return out


def buffered_order(n: int, buffer: int, seed: str) -> Iterator[int]:
    """The order a shuffle buffer of ``buffer`` samples emits positions 0..n-1 in.

    Computed on positions alone, so a resumed reader knows which samples are still to come
    without reading the ones before; the reader holds at most ``buffer`` samples at a time."""
    if buffer <= 1:
        yield from range(n)
        return
    rng = random.Random(seed)
    held: list[int] = []
    for i in range(n):
        held.append(i)
        if len(held) >= buffer:
            j = rng.randrange(len(held))
            held[j], held[-1] = held[-1], held[j]
            yield held.pop()
    rng.shuffle(held)
    yield from held
