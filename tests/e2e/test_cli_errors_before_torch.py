"""Errors that need no data and no model come before torch is imported (litrain.cli.preflight):
a wrong value for a known key, a missing config file, an unknown stage, a bad pipeline file,
an unknown model name, W&B online without a key. Each case runs the CLI in a subprocess and
checks the exit code, the message and that ``torch`` was not in ``sys.modules`` when the
error was raised (what the speed comes from; a timing assertion would be flaky here;
benchmarks/cli_startup.py times it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
from litrain.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    print(f"exit={exc.code} torch_loaded={'torch' in sys.modules}")
"""

STAGES = "stages:\n  - name: a\n  - name: b\n    init_from: {stage: a}\n"
BAD_PIPELINE = "stages:\n  - name: a\n    init_from: {stage: b}\n  - name: b\n  - name: b\n"
GUIDE = "training:\n  num_gpus: 2\n  accum_steps: 4\noptimizer:\n  lr: 0.01\nmodel_type: ensemble\n"

CASES: dict[str, tuple[list[str], list[str]]] = {
    "--lr abc": (["fit", "--lr", "abc"], ["optim.lr must be a positive number or 'auto', got 'abc'"]),
    "--batch-size 0": (["fit", "--batch-size", "0"], ["data.batch_size must be greater than 0, got 0"]),
    "--trainer.max_time 2h": (
        ["fit", "--trainer.max_time", "2h"],
        ["trainer.max_time must be DD:HH:MM:SS (e.g. 00:02:30:00)", "got '2h'"],
    ),
    "missing config file": (["fit", "--config", "missing.yaml"], ["config file missing.yaml does not exist"]),
    "unknown stage": (
        ["fit", "--config", "stages.yaml", "--stage", "c"],
        ["unknown stage 'c'", "stages: a, b"],
    ),
    "bad pipeline file": (
        ["pipeline", "bad_pipeline.yaml"],
        [
            "\n  stages[0].init_from.stage=b is a later stage (stages[1])",
            "\n  stages[1] and stages[2] are both named 'b': give each stage its own name",
        ],
    ),
    "unknown model name": (
        ["fit", "--model", "resnet1800"],
        ["unknown model 'resnet1800'; close matches: resnet18", "or any timm:<name> / torchvision:<name>"],
    ),
    "unknown timm model": (["fit", "--model", "timm:resnet1800"], ["unknown timm model 'timm:resnet1800'"]),
    "unknown model of a stage": (
        ["pipeline", "stages.yaml", "--set", "stages=[{name: a, model: {name: vit_nope}}]"],
        ["unknown model 'vit_nope'"],
    ),
    "W&B online without a key": (
        ["fit", "--wandb-mode", "online"],
        ["logging.wandb.mode=online but no W&B API key was found"],
    ),
    "a flag's value where the checkpoint holds the config": (
        ["test", "--ckpt", "some.ckpt", "--batch-size", "0"],
        ["data.batch_size must be greater than 0, got 0"],
    ),
    "guide names": (
        ["fit", "--config", "guide.yaml"],
        [
            "'training.num_gpus' (did you mean trainer.devices?)",
            "'training.accum_steps' (did you mean trainer.accumulate_grad_batches?)",
            "'optimizer.lr' (did you mean optim.lr?)",
            "'model_type' (did you mean model.ensemble?)",
        ],
    ),
    "config validate with an unknown model": (
        ["config", "validate", "stages.yaml", "--model", "resnet1800"],
        ["unknown model 'resnet1800'"],
    ),
}


def _litrain(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE")}
    home = cwd / "home"  # no ~/.netrc: no W&B key
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), NETRC=str(home / ".netrc"), WANDB_BASE_URL="http://127.0.0.1:9")
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


@pytest.mark.parametrize("case", list(CASES))
def test_the_error_comes_before_torch_is_imported(case, tmp_path):
    (tmp_path / "stages.yaml").write_text(STAGES)
    (tmp_path / "bad_pipeline.yaml").write_text(BAD_PIPELINE)
    (tmp_path / "guide.yaml").write_text(GUIDE)
    argv, words = CASES[case]
    run_dir = [] if argv[0] == "config" else ["--run-dir", "run"]
    proc = _litrain([*argv, *run_dir], tmp_path)
    assert "exit=2 torch_loaded=False" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stderr.startswith("litrain: error: ") and proc.stderr.count("litrain: error:") == 1
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


def test_convert_help_is_a_screen_without_config_flags(tmp_path):
    proc = _litrain(["convert", "--help"], tmp_path)
    assert "exit=0 torch_loaded=False" in proc.stdout
    lines = proc.stdout.splitlines()[:-1]  # the probe's own line last
    assert len(lines) <= 40, proc.stdout
    assert "--to {native,lightning,safetensors}" in proc.stdout and "--consolidate" in proc.stdout
    assert "--config" not in proc.stdout and "--trainer.max_epochs" not in proc.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["convert", "--epochs", "3", "a", "b"],
            "unknown flag --epochs; `litrain convert --help` lists every flag",
        ),
        (["export", "--consolidat"], "unknown flag --consolidat;"),
        (["convert", "a", "b", "--consolidat"], "unknown flag --consolidat (did you mean --consolidate?)"),
    ],
)
def test_commands_without_a_config_take_no_config_flags(argv, message, tmp_path):
    proc = _litrain(argv, tmp_path)
    assert "exit=2 torch_loaded=False" in proc.stdout, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_export_formats_are_the_exports_registry(tmp_path):
    from litrain.registry import EXPORTS

    assert EXPORTS.names() == ["onnx", "pt2", "safetensors"]
    proc = _litrain(["export", "--format", "tflite"], tmp_path)
    assert "exit=2 torch_loaded=False" in proc.stdout
    assert "--format 'tflite' is not a choice; choose from 'onnx', 'pt2', 'safetensors'" in proc.stderr
