"""``litrain export`` builds its model from the model card (``TrainedRun``, purpose export):
the training data deleted, the CLI writes the same safetensors tensors as with the data
present, keyed as the bare model, the EMA weights by default, with the card in the metadata."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import litrain
from litrain.api import export
from litrain.checkpoint.formats.keys import bare_state_dict
from litrain.data.datamodule import DataModule
from litrain.registry import DATASETS
from litrain.run.card import CARD_FILE
from litrain.trained.run import TrainedRun


def _write_arrays(root: Path) -> None:
    g = np.random.default_rng(0)
    for split, n in (("train", 64), ("val", 16), ("test", 16)):
        x = g.normal(size=(n, 8)).astype(np.float32)
        np.savez(root / f"{split}.npz", x=x, y=(x[:, 0] + x[:, 1] > 0).astype(np.int64))


def _cli_export(run: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "litrain",
            "export",
            "--run-dir",
            str(run),
            "--ckpt",
            "last",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_export_with_the_data_deleted_writes_the_same_tensors(engine, tmp_path, monkeypatch):
    data, run = tmp_path / "data", tmp_path / "run"
    data.mkdir()
    _write_arrays(data)
    litrain.fit(
        run_dir=run,
        quiet=True,
        **{
            "data.source": "arrays",
            "data.root": str(data),
            "data.batch_size": 16,
            "model.name": "mlp",
            "trainer.max_epochs": 2,
            "trainer.ema.enabled": True,
            "trainer.ema.decay": 0.5,
            "checkpoint.save_last": True,
            "run.engine": engine,
        },
    )
    present = export("last", run_dir=run, output=tmp_path / "present.safetensors")
    shutil.rmtree(data)
    _cli_export(run, tmp_path / "deleted.safetensors")
    with_data, without = load_file(present), load_file(tmp_path / "deleted.safetensors")
    assert with_data.keys() == without.keys()
    assert all(torch.equal(with_data[k], without[k]) for k in with_data)
    # the EMA weights (trainer.ema.export: ema), keyed as the bare model
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    ema, raw = bare_state_dict(ckpt["ema_state_dict"]), bare_state_dict(ckpt["state_dict"])
    assert without.keys() == ema.keys()
    assert all(torch.equal(without[k], ema[k]) for k in ema)
    assert not all(torch.equal(without[k], raw[k]) for k in raw)
    with safe_open(tmp_path / "deleted.safetensors", "pt") as f:
        meta = f.metadata()
    assert json.loads(meta["litrain_card"]) == json.loads((run / CARD_FILE).read_text())
    assert meta["weights"] == "ema"

    # in process, nothing may rebuild the data (the card sizes the model)
    def refuse(*args, **kwargs):
        raise AssertionError("litrain export rebuilt the training data")

    monkeypatch.setattr(DataModule, "setup", refuse)
    monkeypatch.setattr(DATASETS, "get", refuse)
    opened = []
    real_open = TrainedRun.open.__func__
    monkeypatch.setattr(
        TrainedRun, "open", classmethod(lambda cls, *a, **k: opened.append(k) or real_open(cls, *a, **k))
    )
    again = load_file(export(str(run / "checkpoints" / "last.ckpt"), output=tmp_path / "again.safetensors"))
    assert all(torch.equal(again[k], without[k]) for k in without)
    assert opened == [{"purpose": "export"}]  # the model came through the trained/ seam
