"""Device and precision errors come before Lightning is imported: the
CLI checks what the config alone can tell (core.hardware.check_hardware) first, so the error
appears in about the time ``import torch`` takes, not after Lightning's seconds of imports.
Checked by subprocess: the error line, exit 2, and ``lightning`` absent from sys.modules
when it was raised (a timing test would be flaky on a shared machine)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from litrain.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    loaded = any(m == "lightning" or m.startswith("lightning.") for m in sys.modules)
    print(f"exit={exc.code} lightning_loaded={loaded}")
"""


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--accelerator", "cpu", "--precision", "16-mixed"], "(fp16) is not supported on CPU"),
        (["--accelerator", "cpu", "--devices", "4096"], "trainer.devices=4096 but this machine has"),
        (["--devices", "4", "--accelerator", "gpu"], "no CUDA GPU is visible"),
    ],
)
def test_device_errors_come_before_lightning_is_imported(tmp_path, flags, message):
    if "gpu" in flags and _cuda_count() >= 4:
        pytest.skip("this machine has 4 GPUs: --devices 4 --accelerator gpu is valid here")
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "fit", "--run-dir", str(run_dir), *flags],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    if "gpu" in flags and _cuda_count():  # 1-3 GPUs: too many devices, same early path
        message = "CUDA GPUs: use --devices"
    assert "exit=2 lightning_loaded=False" in proc.stdout, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert proc.stderr.count("litrain: error:") == 1 and "Traceback" not in proc.stderr
    assert not run_dir.exists()
