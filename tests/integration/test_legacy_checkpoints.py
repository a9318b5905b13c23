"""Checkpoints written before the package layout changed still resume, evaluate and convert.

tests/fixtures/digits_mlp_{lightning,native}_v0.ckpt were written by litrain at commit
70a7e10 (the last commit of the flat layout) with

    litrain fit --quiet [--engine native] --run-dir DIR --epochs 1 --set model.hidden=[16] \
        --set trainer.limit_train_batches=5 --set trainer.limit_val_batches=2

so each holds epoch 0 after 5 optimizer steps. They are never regenerated: they stand for the
checkpoints users already have on disk.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from litrain.cli import run

FIXTURES = Path(__file__).parents[1] / "fixtures"
FLAGS = [
    "--quiet",
    "--set",
    "model.hidden=[16]",
    "--set",
    "trainer.limit_train_batches=5",
    "--set",
    "trainer.limit_val_batches=2",
]


def _fixture(engine: str, tmp_path: Path) -> Path:
    # a copy: resuming must never touch the stored file
    dst = tmp_path / f"{engine}.ckpt"
    shutil.copy(FIXTURES / f"digits_mlp_{engine}_v0.ckpt", dst)
    return dst


def _weights(engine: str) -> dict[str, torch.Tensor]:
    ckpt = torch.load(FIXTURES / f"digits_mlp_{engine}_v0.ckpt", weights_only=True)
    prefix = "model." if engine == "lightning" else ""
    return {k.removeprefix(prefix): v for k, v in ckpt["state_dict"].items()}


@pytest.mark.parametrize("written_by", ["lightning", "native"])
@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_resumes_in_either_engine(written_by, engine, tmp_path):
    ckpt = _fixture(written_by, tmp_path)
    out = tmp_path / "run"
    argv = ["fit", "--run-dir", str(out), "--resume", str(ckpt), "--epochs", "2", "--engine", engine]
    assert run(argv + FLAGS) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["engine"] == engine
    assert summary["steps"] == 10  # 5 steps in the checkpoint + one more epoch of 5
    history = json.loads((out / "history.json").read_text())
    assert [row["epoch"] for row in history] == [0, 1]  # epoch 0 came from the checkpoint


@pytest.mark.parametrize("written_by", ["lightning", "native"])
def test_converts_to_every_format_with_the_same_weights(written_by, tmp_path):
    ckpt = _fixture(written_by, tmp_path)
    other = "native" if written_by == "lightning" else "lightning"
    assert run(["convert", str(ckpt), "--to", other, str(tmp_path / "other.ckpt")]) == 0
    assert run(["convert", str(ckpt), "--to", "safetensors", str(tmp_path / "w.safetensors")]) == 0
    expected = _weights(written_by)
    weights = load_file(str(tmp_path / "w.safetensors"))
    assert weights.keys() == expected.keys()
    assert all(torch.equal(weights[k], expected[k]) for k in expected)
    converted = torch.load(tmp_path / "other.ckpt", weights_only=True)
    prefix = "model." if other == "lightning" else ""
    assert all(torch.equal(converted["state_dict"][prefix + k], v) for k, v in expected.items())


@pytest.mark.parametrize("written_by", ["lightning", "native"])
def test_evaluates_from_the_checkpoint_alone(written_by, tmp_path):
    ckpt = _fixture(written_by, tmp_path)
    assert run(["validate", "--ckpt", str(ckpt), "--quiet"]) == 0
    result = json.loads((tmp_path / "validate_metrics.json").read_text())
    assert 0.0 <= result["metrics"]["val/acc"] <= 1.0
    assert result["checkpoint"] == str(ckpt)
