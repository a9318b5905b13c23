"""One export: open the run for export, build the artefact, run it on held-out data against
the PyTorch model (the gate), and only then put it in place atomically, with its report
(JSON beside it, a table on the console). A failing artefact is not written (with
``keep_failed``: written under a FAILED name beside a FAILED report) and the export raises
:class:`~litrain.export.gate.GateFailed` with the numbers (exit 2)."""

from __future__ import annotations

import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from litrain.core.atomic import TEMP_SUFFIX, atomic_write_bytes, atomic_write_json, move_into_place
from litrain.errors import ConfigError
from litrain.export import gate
from litrain.export.data import calibration_batches, datamodule_of, held_out
from litrain.export.options import ExportOptions, format_refusal
from litrain.export.report import Row, latency_ms, table
from litrain.export.runtime import ArtefactRunner, onnx_runner, pt2_runner
from litrain.export.source import ExportSource, open_source

SUFFIX = {"onnx": ".onnx", "pt2": ".pt2"}
REPORT_SUFFIX = ".report.json"


def exportable(src: ExportSource) -> nn.Module:
    """The module the format traces (a seam: the gate compares it with the run's model)."""
    return src.module()


@dataclass
class Built:
    """An artefact built into memory (ONNX bytes) or into a temp file (a .pt2 package)."""

    name: str
    runner: ArtefactRunner
    build_s: float
    data: bytes | None = None
    file: Path | None = None

    def timed(self) -> ArtefactRunner:
        """The runner latency is measured with: ONNX Runtime with one intra-op thread."""
        return onnx_runner(self.data, threads=1) if self.data is not None else self.runner

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.file.stat().st_size  # type: ignore[union-attr]

    def write(self, path: Path) -> None:
        """Put the artefact at ``path`` atomically (a kill leaves no complete-looking file)."""
        if self.data is not None:
            atomic_write_bytes(path, self.data)
        else:
            assert self.file is not None
            move_into_place(self.file, path)


def export_format(
    fmt: str, checkpoint: str, run_dir: str | Path | None, output: str | Path | None, options: ExportOptions
) -> Path:
    """``litrain export --format onnx|pt2``: the gated artefact's path."""
    refusal = format_refusal(fmt, options.int8, options.legacy_onnx)
    if refusal:
        raise ConfigError(refusal)
    src = open_source(checkpoint, run_dir)
    out = _output(src, fmt, output, options)
    from litrain.run.lock import holding, writes_inside

    lock = holding(src.run_dir, out.parent) if writes_inside(src.run_dir, out) else nullcontext()
    with lock, tempfile.TemporaryDirectory(prefix=f".{out.name}.", suffix=TEMP_SUFFIX, dir=out.parent) as tmp:
        return _export(fmt, src, out, Path(tmp), options)


def _output(src: ExportSource, fmt: str, output: str | Path | None, options: ExportOptions) -> Path:
    suffix = SUFFIX[fmt]
    if output is None:
        stem = src.run_dir / "ensemble" if src.is_ensemble else src.checkpoint.with_suffix("")
        return stem.with_name(stem.name + (".int8" if options.int8 else "") + suffix)
    out = Path(output)
    if out.suffix != suffix:
        raise ConfigError(f"--output {out}: an {fmt} artefact is a {suffix} file; name it so")
    if not out.parent.is_dir():
        raise ConfigError(f"--output {out}: the folder {out.parent} does not exist")
    return out


def _export(fmt: str, src: ExportSource, out: Path, tmp: Path, options: ExportOptions) -> Path:
    task = src.run.task
    dm = datamodule_of(src)
    held = held_out(src, dm)
    if held.source == "example" and not options.quiet:
        print(
            "litrain: the run's data is not here: the gate compares outputs on the card's example input only"
        )
    src.run.eval()
    reference = gate.outputs_of(src.reference, held)
    torch_row = Row("pytorch", None, None, None, gate.measure(task, reference, reference, held))
    torch_row.metric = gate.monitored(task, torch_row.numbers)  # type: ignore[arg-type]
    if options.latency:
        torch_row.latency_ms = latency_ms(src.reference, src.example)
    module = exportable(src)
    builds: list[tuple[Built, str | None]] = []
    if fmt == "onnx":
        fp32 = _build_onnx(src, module, options)
        builds.append((fp32, "float32"))
        if options.int8:
            builds.append((_build_int8(src, fp32, dm, options), None))
    elif options.int8:  # torchao: the int8 graph alone (no minutes-long fp32 AOTI compile)
        builds.append((_build_torchao(src, module, dm, tmp / out.name, options), None))
    else:
        builds.append((_build_pt2(src, module, tmp / out.name, options), "float32"))
    rows = [torch_row]
    for built, dtype in builds:
        numbers = gate.measure(task, reference, gate.outputs_of(built.runner, held), held)
        fails = gate.failures(task, numbers, options, dtype)
        row = Row(
            built.name,
            None,
            built.size,
            built.build_s,
            numbers,
            torch_row.metric,
            passed=not fails,
            failures=fails,
        )
        if options.latency:
            row.latency_ms = latency_ms(built.timed(), src.example)
        rows.append(row)
    final, kept = builds[-1][0], rows[-1]
    passed = all(r.passed for r in rows[1:])
    path = out if passed else out.with_name(out.name.removesuffix(out.suffix) + ".FAILED" + out.suffix)
    kept.path = str(path)
    record = _record(src, rows, passed, held)
    if not options.quiet:
        print(table(rows))
    if passed or options.keep_failed:
        final.write(path)
        atomic_write_json(path.with_name(path.name + REPORT_SUFFIX), record)
    if not passed:
        raise gate.GateFailed(_failure_line(rows, held, path if options.keep_failed else None))
    return path


def _build_onnx(src: ExportSource, module: nn.Module, options: ExportOptions) -> Built:
    from litrain.export.onnx_build import to_onnx, with_metadata

    t0 = time.perf_counter()
    names = src.output_names + src.extra_outputs
    data = with_metadata(
        to_onnx(module, src.example(), names, options.legacy_onnx, options.quiet), src.metadata
    )
    return Built("onnx", onnx_runner(data), time.perf_counter() - t0, data=data)


def _build_int8(src: ExportSource, fp32: Built, dm: Any, options: ExportOptions) -> Built:
    from litrain.export.onnx_build import with_metadata
    from litrain.export.quantize import ort_static_int8

    t0 = time.perf_counter()
    assert fp32.data is not None
    calibration = calibration_batches(src, dm, options.calibration_batches)
    data = with_metadata(
        ort_static_int8(fp32.data, calibration), {**src.metadata, "litrain_int8": options.int8 or ""}
    )
    return Built(
        f"onnx int8 ({options.int8})", onnx_runner(data), time.perf_counter() - t0 + fp32.build_s, data=data
    )


def _build_pt2(src: ExportSource, module: nn.Module, path: Path, options: ExportOptions) -> Built:
    from litrain.export.pt2_build import to_pt2

    t0 = time.perf_counter()
    written = to_pt2(module, src.example(), path, src.metadata, options.quiet)
    return Built("pt2", pt2_runner(written), time.perf_counter() - t0, file=written)


def _build_torchao(
    src: ExportSource, module: nn.Module, dm: Any, path: Path, options: ExportOptions
) -> Built:
    from litrain.export.torchao_build import torchao_int8

    t0 = time.perf_counter()
    calibration = calibration_batches(src, dm, options.calibration_batches)
    meta = {**src.metadata, "litrain_int8": options.int8 or ""}
    written = torchao_int8(module, src.example(), calibration, path, meta)
    return Built(f"pt2 int8 ({options.int8})", pt2_runner(written), time.perf_counter() - t0, file=written)


def _record(src: ExportSource, rows: list[Row], passed: bool, held: gate.HeldOut) -> dict[str, Any]:
    return {
        "passed": passed,
        "checkpoint": str(src.checkpoint),
        "source_sha256": src.metadata["litrain_source_sha256"],
        "ema": bool(getattr(src.run, "ema", False)),
        "gate_data": {"split": held.source, "samples": held.samples},
        "artefacts": [r.record() for r in rows],
    }


def _failure_line(rows: list[Row], held: gate.HeldOut, kept: Path | None) -> str:
    bad = "; ".join(f"{r.name}: {', '.join(r.failures)}" for r in rows[1:] if r.failures)
    where = f"kept as {kept} beside its FAILED report" if kept else "nothing written (--keep-failed keeps it)"
    return f"export gate failed on {held.samples} {held.source} samples: {bad}; {where}"
