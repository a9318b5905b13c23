"""report.html at the end of every fit (both engines), none with logging.report false, and
`litrain report` on a tested and predicted run as a user calls it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import litrain
from helpers import tiny_fit

pytestmark = pytest.mark.slow


def sections(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('<section id="')[1:]]


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_every_fit_writes_its_report(tmp_path, engine):
    result = tiny_fit(tmp_path / "run", engine, **{"run.name": "dïgits <b>"})
    html = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert sections(html) == ["summary", "curves", "calibration", "config"]  # val nll, brier, ece, mce
    assert "litrain report: dïgits &lt;b&gt;" in html
    # loss, lr and the classification metrics, one figure each, drawn from logs/metrics.csv
    assert html.count("<svg") >= 3
    assert f"<td>{result.summary['epochs']}</td>" in html


def test_logging_report_false_writes_none(tmp_path):
    result = tiny_fit(tmp_path / "run", "native", **{"logging.report": False, "trainer.max_epochs": 1})
    assert (result.run_dir / "summary.json").is_file()
    assert not (result.run_dir / "report.html").exists()


def test_the_cli_report_of_a_tested_and_predicted_run(tmp_path):
    run = tiny_fit(tmp_path / "run", "lightning", **{"trainer.max_epochs": 1}).run_dir
    litrain.test(run_dir=run, quiet=True)
    litrain.predict(run_dir=run, quiet=True, split="val")
    (run / "report.html").unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "litrain", "report", str(run)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(run / "report.html")
    html = (run / "report.html").read_text(encoding="utf-8")
    assert sections(html) == ["summary", "curves", "test", "confusion", "calibration", "config"]
    assert "Per-class metrics" in html and "reliability of predictions.csv" in html
