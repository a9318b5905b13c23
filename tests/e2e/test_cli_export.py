"""``litrain export --format onnx`` and ``litrain predict --model`` as a user runs them (a
subprocess): the report table and the path on stdout; a gate failure, a flag that needs
another format and a missing artefact each end in one ``litrain: error:`` line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import tiny_fit

pytestmark = pytest.mark.slow

CORRUPT_AND_RUN = """
import copy, sys, torch
import litrain.export.build as build

def corrupted(src):
    module = copy.deepcopy(src.module())
    with torch.no_grad():
        [p for p in module.parameters() if p.ndim == 2][-1][0] += 5.0
    return module

build.exportable = corrupted
from litrain.cli.main import main
main(sys.argv[1:])
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("cli_export") / "run"
    tiny_fit(run_dir, **{"trainer.max_epochs": 1})
    return run_dir


def test_export_onnx_prints_the_report_and_the_path_and_predict_runs_it(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    done = _run(
        "-m",
        "litrain",
        "export",
        "--run-dir",
        str(run),
        "--format",
        "onnx",
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == str(out) and out.is_file()
    header = next(i for i, line in enumerate(lines) if line.startswith("artefact"))
    for col in ("size", "max diff", "agree", "metric", "ECE", "bs1 ms", "bs64 ms", "build s", "gate"):
        assert col in lines[header]
    assert lines[header + 1].startswith("pytorch") and lines[header + 2].startswith("onnx")
    assert lines[header + 2].rstrip().endswith("pass")
    record = json.loads((tmp_path / "m.onnx.report.json").read_text())
    assert set(record["artefacts"][1]["latency_ms"]) == {"bs1", "bs64"}

    done = _run("-m", "litrain", "predict", "--model", str(out), "--output", "p.csv", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0].startswith("index,target,pred,prob_0") and len(rows) > 100


def test_a_gate_failure_is_one_line_with_the_numbers_and_exit_2(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "bad.onnx"
    args = ["export", "--run-dir", str(run), "--format", "onnx", "--output", str(out), "--no-latency"]
    done = _run("-c", CORRUPT_AND_RUN, *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("litrain: error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr
    assert "export gate failed on" in errors[0] and "val samples" in errors[0]
    assert "max abs diff" in errors[0] and "decision agreement" in errors[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["export", "--run-dir", "RUN", "--format", "pt2", "--int8", "ort-static"],
            "--int8 ort-static builds an ONNX model: use --format onnx",
        ),
        (
            ["export", "--run-dir", "RUN", "--format", "onnx", "--int8", "torchao"],
            "--int8 torchao builds a torch.export graph (.pt2): use --format pt2",
        ),
        (
            ["export", "--run-dir", "RUN", "--format", "onnx", "--min-agreement", "2"],
            "give a fraction in [0, 1]",
        ),
        (["predict", "--model", "missing.onnx"], "--model missing.onnx: no such file"),
    ],
)
def test_bad_export_flags_are_one_line_before_torch(
    run: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    args = [str(run) if a == "RUN" else a for a in args]
    code = "import sys; from litrain.cli.main import main\ntry:\n    main(sys.argv[1:])\nfinally:\n    print('torch' in sys.modules)"
    done = _run("-c", code, *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"litrain: error: {done.stderr.split('error: ', 1)[1].strip()}"
    ]
    assert says in done.stderr
    assert done.stdout.strip() == "False"  # refused before torch was imported
