"""An FNO learns the Burgers operator from the pde source with task.type regression, in
both engines, with the same per-epoch losses; with muon too. One target channel, so the
nrmse metric (mean over samples and channels) equals the rel_l2 loss."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from test_parity import final_weights, one_thread  # noqa: F401  (one_thread: autouse fixture)

from litrain.cli import run

ORIGINAL_FNO = {
    "model.grid_embedding": False,
    "model.lifting_ratio": 0,
    "model.projection_ratio": 4,
    "model.channel_mlp": False,
}


def _flags(cache: Path, optimizer: str, epochs: int = 2) -> list[str]:
    sets: dict[str, Any] = {
        "data.source": "pde",
        "data.pde": "burgers",
        "data.pde_resolution": 32,
        "data.pde_time": 0.25,  # the field keeps its amplitude (at t = 1 it has decayed to 2%)
        "data.num_samples": 160,
        "data.root": cache,
        "data.batch_size": 16,
        "model.name": "fno",
        "model.modes": 8,
        "model.width": 16,
        "model.layers": 2,
        # the original FNO layout (before the field's standard defaults), the same weights as
        # ever: the standard one learns as well by epoch 6 but slower in the first two, and
        # the engines' parity and muon's split are what this file checks
        **ORIGINAL_FNO,
        "task.type": "regression",
        "task.loss": "rel_l2",
        "optim.name": optimizer,
        "optim.lr": 0.005,
        "optim.scheduler.name": "none",
        "trainer.max_epochs": epochs,
    }
    if optimizer == "muon":  # clipping walks the optimizer's groups: both parts are clipped
        sets["trainer.gradient_clip_val"] = 0.5
    return [arg for k, v in sets.items() for arg in ("--set", f"{k}={v}")]


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_fno_learns_burgers_with_equal_losses_in_both_engines(optimizer, tmp_path, capsys):
    histories = {}
    for engine in ("lightning", "native"):
        out = tmp_path / engine
        argv = ["fit", "--run-dir", str(out), "--engine", engine, *_flags(tmp_path / "pde", optimizer)]
        assert run(argv) == 0
        histories[engine] = json.loads((out / "history.json").read_text())
        err = capsys.readouterr().err
        # muon says at the start which parameters it takes: the FNO's channel-mixing matrices
        split = [line for line in err.splitlines() if line.startswith("litrain: optim muon:")]
        if optimizer == "muon":
            assert split == [
                "litrain: optim muon: Muon on 3 tensors, 1,536 values (pointwise.0.weight, "
                "pointwise.1.weight, project.0.weight); AdamW on 9 tensors, 8,401 values"
            ]
        else:
            assert split == []
    light, native = histories["lightning"], histories["native"]
    assert len(light) == len(native) == 2
    for a, b in zip(light, native, strict=True):
        for key in ("train/loss", "val/loss", "val/nrmse"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), key
    # it learned: an untrained FNO is off by about 100% (rel_l2 ~ 1); two epochs cut that
    assert light[-1]["val/nrmse"] == pytest.approx(light[-1]["val/loss"], rel=1e-4)
    assert light[-1]["val/loss"] < 0.35
    assert light[-1]["val/loss"] < 0.6 * light[0]["train/loss"]
    # the fields were generated once and read back by the second engine's run
    assert len(list((tmp_path / "pde").glob("burgers-*.npz"))) == 1


def test_neuraloperators_fno_trains_through_model_class_path(tmp_path):
    # the field's own library plugs in with model.class_path (init_args as its constructor takes them)
    flags = _flags(tmp_path / "pde", "adamw")
    flags += [
        "--set",
        "model.class_path=neuralop.models.FNO",
        "--set",
        "model.init_args={n_modes: [8], in_channels: 2, out_channels: 1, hidden_channels: 16, n_layers: 2}",
    ]
    out = tmp_path / "run"
    assert run(["fit", "--run-dir", str(out), "--engine", "native", *flags]) == 0
    history = json.loads((out / "history.json").read_text())
    config = (out / "config.yaml").read_text()
    assert "class_path: neuralop.models.FNO" in config
    assert history[-1]["val/loss"] < 0.6 * history[0]["train/loss"]


@pytest.mark.parametrize("engine", ["native", "lightning"])
def test_a_muon_run_resumes_exactly_where_it_stopped(engine, tmp_path):
    cache = tmp_path / "pde"
    straight, split = tmp_path / "straight", tmp_path / "split"
    base = ["fit", "--engine", engine]
    assert run([*base, "--run-dir", str(straight), *_flags(cache, "muon", epochs=2)]) == 0
    assert run([*base, "--run-dir", str(split), *_flags(cache, "muon", epochs=1)]) == 0
    resume = ["--resume", str(split / "checkpoints" / "last.ckpt")]
    assert run([*base, "--run-dir", str(split), *resume, *_flags(cache, "muon", epochs=2)]) == 0
    # Muon's momentum buffers and AdamW's moments came back: the weights are the same bits
    expected, got = final_weights(straight), final_weights(split)
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected), [
        k for k in expected if not torch.equal(expected[k], got[k])
    ]


@pytest.mark.parametrize("model", ["fno", "unet"])
def test_2d_models_learn_darcy_flow(model, tmp_path):
    sets = {
        "data.source": "pde",
        "data.pde": "darcy",
        "data.pde_resolution": 16,
        "data.num_samples": 160,
        "data.root": tmp_path / "pde",
        "data.batch_size": 16,
        "model.name": model,
        "model.modes": 4,
        "model.width": 8,
        "model.layers": 2,
        "task.type": "regression",
        "task.loss": "rel_l2",
        "optim.lr": 0.01,
        "optim.scheduler.name": "none",
        "trainer.max_epochs": 3,
    }
    out = tmp_path / "run"
    flags = [arg for k, v in sets.items() for arg in ("--set", f"{k}={v}")]
    assert run(["fit", "--run-dir", str(out), "--engine", "native", *flags]) == 0
    history = json.loads((out / "history.json").read_text())
    # 2-D fields go through the engine and the error falls several-fold in 24 steps (the
    # pressure is ~1e-2 while a fresh model's outputs are ~1, so the first losses are >> 1)
    assert history[-1]["val/loss"] < 0.5 * history[0]["train/loss"]
    assert history[-1]["val/loss"] < history[0]["val/loss"]
