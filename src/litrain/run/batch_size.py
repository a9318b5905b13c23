"""``data.batch_size: auto`` and ``trainer.global_batch_size``, engine-neutral, resolved
before the data is built (``run.parts.build_parts``).

auto: the largest per-device batch that trains a step (forward, backward, optimizer step) of
the real model, at the run's precision, on a real input of the data, on this one process:
doubling from 1 until out of memory (or the training split's size), then a binary search
between the last size that fitted and the first that did not, then a safety margin (90 %:
activations vary from batch to batch, allocator fragmentation grows over a run).

global_batch_size: ``accumulate_grad_batches`` set so that per-device batch x devices x
accumulation is the global batch, so changing the number of GPUs leaves the optimisation as it
was; with auto, the per-device batch is the largest found that divides it.

On CUDA the probe meets the real out-of-memory error; ``LITRAIN_TEST_OOM_ABOVE=N`` makes a
batch above N raise one on any device (how the tests run it on a CPU)."""

from __future__ import annotations

import gc
import math
import os
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import torch

from litrain.config import Config
from litrain.core.hardware import resolve_accelerator, resolve_precision
from litrain.core.noise import note
from litrain.errors import ConfigError

MARGIN = 0.9  # of the largest batch that fitted
OOM_HOOK = "LITRAIN_TEST_OOM_ABOVE"
_AUTOCAST = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}


def world_size(cfg: Config) -> int:
    """The processes the run trains on: devices x nodes (or a launcher's WORLD_SIZE)."""
    if os.environ.get("WORLD_SIZE", "").isdigit():
        return int(os.environ["WORLD_SIZE"])
    t = cfg.trainer
    devices = t.devices
    if isinstance(devices, list):
        n = len(devices)
    elif str(devices).isdigit():
        n = int(devices)
    else:  # auto (or -1): every visible GPU, else one process
        n = torch.cuda.device_count() if resolve_accelerator(t.accelerator) == "cuda" else 1
    return max(n, 1) * t.num_nodes


def with_batch(cfg: Config, batch: int, accumulate: int | None = None) -> Config:
    data = cfg.data.model_copy(update={"batch_size": batch})
    trainer = (
        cfg.trainer
        if accumulate is None
        else cfg.trainer.model_copy(update={"accumulate_grad_batches": accumulate})
    )
    return cfg.model_copy(update={"data": data, "trainer": trainer})


def resolve_batching(cfg: Config, build: Callable[[Config], Any], quiet: bool = False) -> Config:
    """``cfg`` with a number for data.batch_size (auto probed on the parts ``build`` makes:
    ``run.parts.build_parts``) and accumulate_grad_batches from trainer.global_batch_size;
    unchanged when neither is asked for."""
    auto = cfg.data.batch_size == "auto"
    target = cfg.trainer.global_batch_size
    if not auto and target is None:
        return cfg
    accumulate = cfg.trainer.accumulate_grad_batches
    if target is not None and accumulate != 1:
        if not auto and int(cfg.data.batch_size) * world_size(cfg) * accumulate == target:
            return cfg  # already split (a config.yaml this resolved, `litrain tune batch-size`'s)
        raise ConfigError(
            "trainer.global_batch_size sets accumulate_grad_batches itself: drop trainer.accumulate_grad_batches"
        )
    world = world_size(cfg)
    if auto:
        if world > 1:  # each process would probe on its own and could find another size
            raise ConfigError(
                f"data.batch_size=auto probes one process; this run trains on {world}: run "
                "`litrain tune batch-size` first and set data.batch_size to what it finds"
            )
        found = find_batch_size(cfg, build, quiet=quiet)
    else:
        found = int(cfg.data.batch_size)
    if target is None:
        note(f"data.batch_size=auto: {found} per device", quiet)
        return with_batch(cfg, found)
    batch, accumulate = split_global(target, found, world, exact=not auto)
    note(
        f"trainer.global_batch_size={target}: data.batch_size={batch} x {world} device(s) x "
        f"accumulate_grad_batches={accumulate}",
        quiet,
    )
    return with_batch(cfg, batch, accumulate)


def split_global(target: int, most: int, world: int, exact: bool) -> tuple[int, int]:
    """(per-device batch, accumulation) with batch x world x accumulation == target: the
    given batch (``exact``) or the largest up to ``most`` that divides the target."""
    if target % world:
        raise ConfigError(
            f"trainer.global_batch_size={target} is not a multiple of the {world} devices: change one"
        )
    per_device = target // world
    if exact:
        if per_device % most:
            raise ConfigError(
                f"trainer.global_batch_size={target} is not a multiple of data.batch_size={most} x {world} "
                f"device(s): choose a global batch that is, or set data.batch_size=auto"
            )
        return most, per_device // most
    batch = next(b for b in range(min(most, per_device), 0, -1) if per_device % b == 0)
    return batch, per_device // batch


def find_batch_size(
    cfg: Config, build: Callable[[Config], Any], *, quiet: bool = False, limit: int | None = None
) -> int:
    """The largest per-device batch (after the margin) one training step of the real model
    (the parts ``build`` makes) fits in; one ConfigError line when even 1 sample does not."""
    probe = with_batch(cfg, 1)  # the real data, task and model; batches of one
    probe = probe.model_copy(update={"trainer": probe.trainer.model_copy(update={"global_batch_size": None})})
    parts = build(probe)
    if parts.task is None:
        raise ConfigError("data.batch_size=auto needs litrain's own data and task, not a class_path module")
    accel = resolve_accelerator(cfg.trainer.accelerator)
    device = torch.device("cuda" if accel == "cuda" else "mps" if accel == "mps" else "cpu")
    precision = resolve_precision(cfg.trainer.precision, accel)
    train_set = getattr(parts.datamodule, "train_set", None)
    cap = limit or (len(train_set) if train_set is not None else 1 << 16)
    x, y = parts.task.unpack(next(iter(parts.datamodule.train_dataloader())))
    step = _step(parts, device, precision)
    fits = _fits(step, x.to(device), _to(y, device))
    found = largest(fits, cap)
    if found == 0:
        raise ConfigError(
            f"data.batch_size=auto: not even 1 sample fits in the {device.type} memory with "
            f"model.name={cfg.model.name} at {precision} precision: choose a smaller model, a "
            "smaller input (data.image_size) or a lower precision"
        )
    return max(1, math.floor(found * MARGIN)) if found < cap else found


def largest(fits: Callable[[int], bool], cap: int) -> int:
    """The largest n in [1, cap] with fits(n) (monotone), or 0: doubling, then bisection."""
    if not fits(1):
        return 0
    good, bad = 1, None
    while bad is None:
        n = min(good * 2, cap)
        if n == good:
            return good
        if fits(n):
            good = n
        else:
            bad = n
    while bad - good > 1:
        mid = (good + bad) // 2
        if fits(mid):
            good = mid
        else:
            bad = mid
    return good


def _to(y: Any, device: torch.device) -> Any:
    return y.to(device) if isinstance(y, torch.Tensor) else y


def _repeat(t: Any, n: int) -> Any:
    if isinstance(t, torch.Tensor):
        return t.repeat(n, *([1] * (t.dim() - 1))) if t.dim() else t
    if isinstance(t, dict):
        return {k: _repeat(v, n) for k, v in t.items()}
    return t


def _step(parts: Any, device: torch.device, precision: str) -> Callable[[Any, Any], None]:
    from litrain.optim.optimizers import build_optimizer

    model = parts.model.to(device).train()
    optimizer = build_optimizer(model, parts.config.optim)
    dtype = _AUTOCAST.get(precision)

    def step(x: Any, y: Any) -> None:
        ctx = torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext()
        with ctx:
            loss = parts.task.loss(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def _fits(step: Callable[[Any, Any], None], x: Any, y: Any) -> Callable[[int], bool]:
    hook = os.environ.get(OOM_HOOK, "")

    def fits(n: int) -> bool:
        try:
            if hook.isdigit() and n > int(hook):
                raise torch.OutOfMemoryError(f"injected: batch {n} > {hook}")
            step(_repeat(x, n), _repeat(y, n))
            return True
        except torch.OutOfMemoryError:
            return False
        finally:
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    return fits
