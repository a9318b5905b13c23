"""What the report accepts as a run (litrain.report.read): a directory that is not one is
a user error, before anything is written."""

from __future__ import annotations

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
