"""The recipes of configs/ that need no download run end to end, shrunk to one short epoch
(flags win over the file, as for a user's smoke test): the operator, pipeline, lens and
video multi-task recipes train, rank checkpoints by their monitor and name them by their
template."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from litrain.cli import run

ROOT = Path(__file__).parents[2]
CONFIGS = ROOT / "configs"
SHORT = [
    "--epochs",
    "1",
    "--quiet",
    "--set",
    "trainer.limit_train_batches=2",
    "--set",
    "trainer.limit_val_batches=2",
]


def _fit(recipe: str, run_dir: Path, *flags: str, command: str = "fit") -> dict:
    assert run([command, "--config", str(CONFIGS / recipe), "--run-dir", str(run_dir), *SHORT, *flags]) == 0
    return json.loads((run_dir / ("pipeline.json" if command == "pipeline" else "summary.json")).read_text())


def test_operator_regression_recipe(tmp_path):
    pde = [
        "--set",
        f"data.root={tmp_path / 'pde'}",
        "--set",
        "data.num_samples=96",
        "--set",
        "data.pde_resolution=32",
    ]
    summary = _fit("operator_regression.yaml", tmp_path / "run", *pde, "--set", "model.modes=8")
    assert summary["monitor"] == "val/nrmse"
    assert Path(summary["best_checkpoint"]).name.startswith("epoch=00-val_nrmse=")


def test_operator_pipeline_recipe(tmp_path):
    pde = [
        "--set",
        f"data.root={tmp_path / 'pde'}",
        "--set",
        "data.num_samples=96",
        "--set",
        "data.pde_resolution=32",
    ]
    pipeline = _fit(
        "operator_pipeline.yaml", tmp_path / "run", *pde, "--set", "model.modes=8", command="pipeline"
    )
    assert [s["name"] for s in pipeline["stages"]] == ["operator", "refine"]
    assert all(s["status"] == "finished" for s in pipeline["stages"])
    refine = (tmp_path / "run" / "refine" / "config.yaml").read_text()
    assert "loss: h1" in refine
    names = [p.name for p in (tmp_path / "run" / "refine" / "checkpoints").glob("refine-*.ckpt")]
    assert names and names[0].startswith("refine-epoch=00-val_nrmse=")


def test_lens_binary_recipe(tmp_path):
    summary = _fit(
        "lens_binary.yaml", tmp_path / "run", "--set", "data.num_samples=64", "--set", "data.batch_size=16"
    )
    assert summary["monitor"] == "val/auroc"
    assert Path(summary["best_checkpoint"]).name.startswith("00-val_auroc=")


def test_video_multitask_recipe(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from make_video_set import make_video_set
    finally:
        sys.path.pop(0)
    make_video_set(tmp_path / "videos", samples=8, frames=8, size=32)
    data = ["--set", f"data.root={tmp_path / 'videos'}", "--set", "data.batch_size=4"]
    summary = _fit(
        "video_multitask.yaml",
        tmp_path / "run",
        *data,
        "--set",
        "data.img_height=32",
        "--set",
        "data.img_width=32",
    )
    assert summary["monitor"] == "val/mean_acc"
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    row = history[-1]
    for key in ("val/severity/acc", "val/action/acc", "val/loss/severity", "train/weight/action"):
        assert key in row, key
    assert row["val/mean_acc"] == (row["val/severity/acc"] + row["val/action/acc"]) / 2
