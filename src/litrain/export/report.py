"""The export report: per artefact (and the PyTorch model it is checked against) its size,
max diff, agreement, metric and ECE, latency at batch 1 and 64 measured on this machine, and
build time; JSON beside the artefact and a table on the console."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor

from litrain.export.gate import ECE, Numbers

LATENCY_BATCHES = (1, 64)


@dataclass
class Row:
    """One artefact's line of the report."""

    name: str
    path: str | None
    size_bytes: int | None
    build_s: float | None
    numbers: Numbers | None = None
    metric: str | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)
    passed: bool = True
    failures: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        if self.numbers is not None and self.metric is not None:
            out["metric_value"] = self.numbers.metrics.get(self.metric)
            out["metric_delta"] = self.numbers.delta(self.metric)
            out["ece"] = self.numbers.metrics.get(ECE)
            out["ece_delta"] = self.numbers.delta(ECE)
        return out


@torch.no_grad()
def latency_ms(
    run: Callable[[Tensor], Any], example: Callable[[int], Tensor], repeats: int = 5
) -> dict[str, float]:
    """Median wall milliseconds of one call at each of :data:`LATENCY_BATCHES` (after one
    warm-up call) with one intra-op thread (torch's here; an ONNX Runtime session is opened
    with one for this): on a shared, loaded machine a multi-threaded op waits on descheduled
    threads and the numbers would measure the load, not the model."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = {}
        for bs in LATENCY_BATCHES:
            x = example(bs)
            run(x)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                run(x)
                times.append((time.perf_counter() - t0) * 1e3)
            out[f"bs{bs}"] = statistics.median(times)
        return out
    finally:
        torch.set_num_threads(threads)


def table(rows: list[Row]) -> str:
    """The console table: one line per artefact."""
    head = ("artefact", "size", "max diff", "agree", "metric", "ECE", "bs1 ms", "bs64 ms", "build s", "gate")
    lines = [head]
    for r in rows:
        n = r.numbers
        metric = "-"
        if n is not None and r.metric and r.metric in n.metrics:
            metric = f"{r.metric.removeprefix('val/')} {n.metrics[r.metric]:.4f}"
            delta = n.delta(r.metric)
            metric += f" ({delta:+.4f})" if delta is not None and r.name != "pytorch" else ""
        ece = f"{n.metrics[ECE]:.4f}" if n is not None and ECE in n.metrics else "-"
        lines.append(
            (
                r.name,
                _size(r.size_bytes),
                f"{n.max_abs_diff:.2e}" if n is not None and r.name != "pytorch" else "-",
                f"{n.agreement:.2%}"
                if n is not None and n.agreement is not None and r.name != "pytorch"
                else "-",
                metric,
                ece,
                _ms(r.latency_ms.get("bs1")),
                _ms(r.latency_ms.get("bs64")),
                f"{r.build_s:.1f}" if r.build_s is not None else "-",
                "-" if r.name == "pytorch" else ("pass" if r.passed else "FAILED"),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _ms(v: float | None) -> str:
    return f"{v:.2f}" if v is not None else "-"
