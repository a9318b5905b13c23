"""What the report accepts as a run (litrain.report.read): a directory that is not one is
a user error, before anything is written."""

from __future__ import annotations

import re

import pytest

from litrain.errors import ConfigError
from litrain.report import build_report


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_a_dir_that_is_not_a_run_is_one_line(tmp_path, make):
    path = tmp_path / "x"
    if make == "empty":
        path.mkdir()
    elif make == "file":
        path.write_text("x")
    with pytest.raises(ConfigError, match="litrain fit"):
        build_report([path])
    assert not (path / "report.html").exists()


def test_unreadable_files_leave_their_sections_out(tmp_path):
    run = tmp_path / "run"
    (run / "logs").mkdir(parents=True)
    (run / "config.yaml").write_text("run: just a string\ntask: [1, 2]\n")
    (run / "summary.json").write_text("[1, 2, 3]")
    (run / "model_card.json").write_text("{not json")
    (run / "logs" / "metrics.csv").write_bytes(b"\xff\xfe garbage\x00")
    (run / "confusion_matrix.csv").write_text("")
    html = build_report([run]).read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)"', html) == ["summary", "config"]
    assert "litrain report: run" in html  # the dir's name when the config has none
