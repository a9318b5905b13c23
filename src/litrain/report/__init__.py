"""``litrain report``: one self-contained, offline HTML file for a run (or a comparison page
for several), drawn from the run dir's files alone: no torch, no Lightning, no network, no
plotting library (the figures are inline SVG, ``report.svg``). Written at the end of every
fit (``logging.report``) and on demand. docs/report.md."""

from __future__ import annotations

from pathlib import Path

from litrain.core.atomic import atomic_write_text
from litrain.report.compare import compare_sections
from litrain.report.page import page
from litrain.report.read import Run, open_run
from litrain.report.sections import run_sections

REPORT_FILE = "report.html"

__all__ = ["REPORT_FILE", "build_report", "render", "write_report"]


def render(runs: list[Run]) -> str:
    """The page for ``runs``: one run's report, or the comparison of several."""
    if len(runs) == 1:
        run = runs[0]
        sections = [(s.id, s.title, html) for s, html in run_sections(run)]
        subtitle = f"{run.task} · {run.summary.get('engine', '?')} engine · {run.path}"
        data = {"runs": [_data(run)]}
        return page(f"litrain report: {run.name}", subtitle, sections, data)
    title = "litrain comparison: " + ", ".join(r.name for r in runs)
    return page(title, f"{len(runs)} runs", compare_sections(runs), {"runs": [_data(r) for r in runs]})


def _data(run: Run) -> dict[str, object]:
    return {"name": run.name, "dir": str(run.path), "summary": run.summary}


def build_report(runs: list[str | Path], output: str | Path | None = None) -> Path:
    """Write the report of ``runs`` to ``output`` (default: ``<run>/report.html`` for one
    run, ``./report.html`` for several) and return its path. A dir that is not a run: a
    :class:`~litrain.errors.ConfigError`, before anything is written."""
    if not runs:
        from litrain.errors import ConfigError

        raise ConfigError("report needs at least one run dir")
    opened = [open_run(r) for r in runs]
    if output is None:
        output = opened[0].path / REPORT_FILE if len(opened) == 1 else Path(REPORT_FILE)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, render(opened))
    return out


def write_report(run_dir: Path) -> Path:
    """The end-of-fit report, ``<run_dir>/report.html``."""
    return build_report([run_dir], Path(run_dir) / REPORT_FILE)
