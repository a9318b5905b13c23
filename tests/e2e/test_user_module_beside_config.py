"""A callback class in a file beside the config (``mycb.CustomCallback``) imports from the
``litrain`` console script, as Python imports a module beside the script it runs; a module
found nowhere is one line that says where litrain looked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

LITRAIN = Path(sys.executable).parent / "litrain"  # the console script pip installed
CALLBACK = """\
from pathlib import Path

import lightning as L


class CustomCallback(L.Callback):
    def on_fit_start(self, trainer, pl_module):
        Path(__file__).with_name("callback-ran").write_text("yes")
"""
CONFIG = """\
trainer:
  max_epochs: 1
  limit_train_batches: 2
  limit_val_batches: 1
  callbacks:
    - class_path: mycb.CustomCallback
"""


def _litrain(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    # litrain's own source stays importable; the test's folders are not on the path
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p.endswith("src"))
    return subprocess.run(
        [str(LITRAIN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_a_callback_beside_the_config_runs_from_another_working_dir(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "mycb.py").write_text(CALLBACK)
    (project / "config.yaml").write_text(CONFIG)
    done = _litrain(
        "fit", "--config", str(project / "config.yaml"), "--run-dir", "run", "--quiet", cwd=elsewhere
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (project / "callback-ran").read_text() == "yes"


def test_a_callback_module_found_nowhere_says_where_litrain_looked(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG)
    done = _litrain("fit", "--config", "config.yaml", "--run-dir", "run", "--quiet", cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("litrain: error:")]
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "cannot import class_path 'mycb.CustomCallback': no module 'mycb'" in lines[0]
    assert str(tmp_path) in lines[0] and "put mycb.py there or add its folder to PYTHONPATH" in lines[0]
