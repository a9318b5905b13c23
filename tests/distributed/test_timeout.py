"""trainer.ddp_timeout reaches the process group: when one rank never joins a collective,
the others fail with a timeout instead of waiting (the default is 30 minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dist_helpers import BASE, TORCHRUN_LITRAIN_2, run

pytestmark = pytest.mark.distributed

HERE = str(Path(__file__).parent)  # stall_callback is imported from here by class_path


def test_ddp_timeout_is_honoured(tmp_path):
    # torchrun starts both ranks together, so only the stalled all-reduce can time out
    proc = run(
        [
            *TORCHRUN_LITRAIN_2,
            *BASE,
            "--run-dir",
            str(tmp_path / "run"),
            "--trainer.ddp_timeout",
            "10",
            "--set",
            "trainer.callbacks=[{class_path: stall_callback.StallRank, init_args: {seconds: 20}}]",
        ],
        tmp_path,
        timeout=300,
        check=False,
        extra_env={"PYTHONPATH": HERE},
    )
    assert proc.returncode != 0
    assert "Timed out waiting 10000ms" in proc.stdout + proc.stderr, proc.stderr[-3000:]
