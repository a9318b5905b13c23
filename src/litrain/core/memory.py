"""Memory figures (``logging.memory``) and periodic cleanup (``trainer.memory_cleanup_interval``),
shared by both engines. Lightning-free."""

from __future__ import annotations

import gc
import os
import resource

import torch

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 1024 * 1024


def rss_mb() -> float:
    """This process's resident memory now (Linux: /proc/self/statm), else its peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / MB
    except (OSError, IndexError, ValueError):  # macOS: ru_maxrss in bytes, the peak
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB


def memory_metrics(device: torch.device) -> dict[str, float]:
    """``train/memory/rss_mb`` always; on CUDA also the allocated, peak allocated and reserved
    device memory (MB). Reads counters only: no device sync."""
    out = {"train/memory/rss_mb": rss_mb()}
    if device.type == "cuda":
        out["train/memory/allocated_mb"] = torch.cuda.memory_allocated(device) / MB
        out["train/memory/peak_mb"] = torch.cuda.max_memory_allocated(device) / MB
        out["train/memory/reserved_mb"] = torch.cuda.memory_reserved(device) / MB
    return out


def release_memory(device: torch.device) -> None:
    """gc.collect, and on CUDA hand cached blocks back (other processes, fragmentation)."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def cleanup_due(step: int, interval: int | None) -> bool:
    """Whether ``trainer.memory_cleanup_interval`` asks for a cleanup after optimizer step
    ``step`` (counted from 1)."""
    return bool(interval) and step > 0 and step % interval == 0
