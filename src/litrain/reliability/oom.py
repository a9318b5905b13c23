"""Out-of-memory recovery (``trainer.oom_recovery``), shared by both engines
(Lightning: ``litrain.engines.lightning.callbacks.oom``; native: ``litrain.engines.native.loop``). Lightning-free.

When a training step runs out of memory, free what it held, split the batch into twice as
many micro-batches (so the effective batch, and thus the result, is unchanged) and redo the
step from the first micro-batch that did not finish; at one sample per micro-batch, stop with
a clear message.

Each micro-batch's gradients are computed with ``torch.autograd.grad`` and summed into a side
buffer only once they are complete, so an OOM in the forward *or* the backward pass leaves no
partial gradients behind and the retried step is exact. The caller adds the buffer to
``.grad``. The split persists for the rest of the run (and across resume) because the memory
that ran out stays as small. Single-device only: under DDP each micro-batch would need its
own gradient all-reduce.
"""

from __future__ import annotations

import gc
import math
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from litrain.errors import LitrainError


class OutOfMemory(LitrainError):
    """Even one sample per micro-batch does not fit."""


def batch_len(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return len(batch)
    if isinstance(batch, dict):
        return batch_len(next(iter(batch.values())))
    return batch_len(batch[0])


def slice_batch(batch: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of every tensor in a (nested) batch."""
    if isinstance(batch, torch.Tensor):
        return batch[start:stop]
    if isinstance(batch, dict):
        return {k: slice_batch(v, start, stop) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(slice_batch(v, start, stop) for v in batch)
    return batch


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


Gradients = list[tuple[torch.nn.Parameter, torch.Tensor]]


class MicroBatches:
    """How many micro-batches a loader batch runs as, and the split-and-retry step."""

    def __init__(self, warn: Callable[[str], None] = warnings.warn) -> None:
        self.splits = 1
        self.warn = warn

    def state_dict(self) -> dict[str, Any]:
        return {"splits": self.splits}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.splits = int(state_dict.get("splits", 1))

    def gradients(
        self,
        batch: Any,
        loss_of: Callable[[Any], torch.Tensor],
        scale: Callable[[torch.Tensor], torch.Tensor],
        params: Sequence[torch.nn.Parameter],
        step: int,
    ) -> tuple[torch.Tensor, Gradients]:
        """The batch's mean loss (detached) and each parameter's gradient of
        ``scale(mean loss)``, computed in ``self.splits`` micro-batches. ``loss_of(part)`` is
        the mean loss of a slice of the batch."""
        n = batch_len(batch)
        done, total = 0, None
        summed: list[torch.Tensor | None] = []
        while done < n:
            size = math.ceil(n / self.splits)
            try:
                part = slice_batch(batch, done, min(n, done + size))
                m = batch_len(part)
                loss = loss_of(part) * (m / n)
                grads = torch.autograd.grad(scale(loss), params, allow_unused=True)
            except torch.OutOfMemoryError:
                loss = part = None  # drop references so the memory can be freed
                free_memory()
                self._shrink(step, size)
                continue
            if not summed:
                summed = list(grads)
            else:
                for i, g in enumerate(grads):
                    if g is not None:
                        summed[i] = g if summed[i] is None else summed[i].add_(g)
            total = loss.detach() if total is None else total + loss.detach()
            done += m
        assert total is not None
        return total, [(p, g) for p, g in zip(params, summed, strict=True) if g is not None]

    def _shrink(self, step: int, size: int) -> None:
        if size <= 1:
            raise OutOfMemory(
                f"out of memory at step {step} even with one sample per micro-batch: use a "
                "smaller model or image size, bf16-mixed precision, or a device with more memory"
            )
        self.splits *= 2
        self.warn(
            f"out of memory at step {step}: each batch now runs as {self.splits} "
            f"micro-batches of about {math.ceil(size / 2)} samples (effective batch unchanged)"
        )


def add_gradients(grads: Gradients) -> None:
    """Add a side buffer from :meth:`MicroBatches.gradients` to the parameters' ``.grad``."""
    for p, g in grads:
        if p.grad is None:
            p.grad = g
        else:
            p.grad.add_(g)


_ASKED = re.compile(r"Tried to allocate ([\d.]+ [KMGTP]?i?B)")
_FREE = re.compile(r"of which ([\d.]+ [KMGTP]?i?B) is free")
_TOTAL = re.compile(r"total capacity of ([\d.]+ [KMGTP]?i?B)")


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def memory_detail(exc: BaseException) -> str:
    """What the allocator asked for and had free, from its message or the device (or '')."""
    text = str(exc)
    asked, free, total = (m.group(1) if (m := r.search(text)) else None for r in (_ASKED, _FREE, _TOTAL))
    if free is None and torch.cuda.is_available():
        try:
            f, t = torch.cuda.mem_get_info()
            free, total = _gib(f), _gib(t)
        except RuntimeError:
            pass
    parts = [f"asked for {asked}"] if asked else []
    if free:
        parts.append(f"{free} free" + (f" of {total}" if total else ""))
    return f" ({', '.join(parts)})" if parts else ""


def out_of_memory(exc: BaseException, batch_size: int, recovery: bool, where: str = "fit") -> OutOfMemory:
    """The one line for an out-of-memory error the run did not recover from: the batch size,
    the memory asked for and free when known, and the keys that help."""
    training = where == "fit"  # oom_recovery and accumulation act on training steps only
    helps = (
        []
        if recovery or not training
        else ["trainer.oom_recovery=true (each batch as micro-batches, same result)"]
    )
    helps += [
        "a smaller data.batch_size"
        + (" (trainer.accumulate_grad_batches keeps the effective batch)" if training else ""),
        "trainer.precision=bf16-mixed",
        "a smaller data.image_size or model",
    ]
    return OutOfMemory(
        f"out of memory during {where} with data.batch_size={batch_size}{memory_detail(exc)}: "
        f"set {helps[0]}, or use {', '.join(helps[1:-1])} or {helps[-1]}"
    )


@contextmanager
def one_line_oom(batch_size: int, recovery: bool, where: str) -> Iterator[None]:
    """Turn an out-of-memory error inside the block into :func:`out_of_memory`'s line."""
    try:
        yield
    except torch.OutOfMemoryError as exc:
        raise out_of_memory(exc, batch_size, recovery, where) from None
