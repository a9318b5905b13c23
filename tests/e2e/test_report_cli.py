"""`litrain report` as a user calls it: a run dir that is not a litrain run is one line,
exit code 2, and no page is written."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_refuses_a_non_run_with_one_line_and_writes_nothing(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "config.yaml").write_text("run: {name: good}\n")
    (tmp_path / "empty").mkdir()
    out = tmp_path / "cmp.html"
    proc = subprocess.run(
        [sys.executable, "-m", "litrain", "report", str(good), str(tmp_path / "empty"), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"litrain: error: {tmp_path / 'empty'} is not a litrain run (no config.yaml, summary.json, "
        "ensemble.json or study.json): pass the dir `litrain fit` or `litrain sweep` wrote"
    ]
    assert not out.exists()
