"""litrain.core.memory: the figures logging.memory logs and the cleanup schedule."""

from __future__ import annotations

import types

import torch

import litrain.core.memory as memory


def test_cpu_logs_rss_only_and_cuda_adds_device_counters(monkeypatch) -> None:
    cpu = memory.memory_metrics(torch.device("cpu"))
    assert set(cpu) == {"train/memory/rss_mb"} and cpu["train/memory/rss_mb"] > 0
    # the CUDA counters, read without a GPU: each in MB
    for name, value in (
        ("memory_allocated", 3 << 20),
        ("max_memory_allocated", 5 << 20),
        ("memory_reserved", 8 << 20),
    ):
        monkeypatch.setattr(torch.cuda, name, lambda device=None, v=value: v)
    gpu = memory.memory_metrics(torch.device("cuda", 0))
    assert gpu["train/memory/allocated_mb"] == 3 and gpu["train/memory/peak_mb"] == 5
    assert gpu["train/memory/reserved_mb"] == 8 and gpu["train/memory/rss_mb"] > 0


def test_release_memory_empties_the_cuda_cache_only_on_cuda(monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(memory, "gc", types.SimpleNamespace(collect=lambda: calls.append("gc")))
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: calls.append("empty_cache"))
    memory.release_memory(torch.device("cpu"))
    memory.release_memory(torch.device("cuda", 0))
    assert calls == ["gc", "gc", "empty_cache"]
    assert [s for s in range(1, 11) if memory.cleanup_due(s, 4)] == [4, 8]
    assert not any(memory.cleanup_due(s, None) for s in range(1, 11))
