"""Several PDEs in one run: the pde source's burgers + advection as one multi-task set, one
FNO body with a field head per equation, each head's loss and nrmse, val/mean_nrmse the
monitor, equal in both engines; and the operator options' bad input (one line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_cli_errors import assert_user_error
from test_parity import one_thread  # noqa: F401  (autouse: one thread, as the parity tests)

from litrain.cli import run
from litrain.config import DataConfig
from litrain.data.pde import pde

RECIPE = Path(__file__).parents[2] / "configs" / "operator_multitask.yaml"
SMALL = {
    "data.root": None,  # set per test
    "data.num_samples": 120,  # 96 training samples: 3 batches of 32
    "data.pde_resolution": 32,
    "model.width": 8,
    "model.layers": 2,
    "trainer.max_epochs": 2,
    "optim.scheduler.name": "none",
}


def _flags(cache: Path, **extra: object) -> list[str]:
    sets = {**SMALL, "data.root": cache, **extra}
    return ["--config", str(RECIPE), *(a for k, v in sets.items() for a in ("--set", f"{k}={v}"))]


def test_the_source_yields_each_pde_from_the_same_initial_fields(tmp_path):
    cfg = {"source": "pde", "pde_resolution": 32, "num_samples": 8, "pde_time": 0.25, "root": str(tmp_path)}
    both = pde(DataConfig(**cfg, pde_tasks=["burgers", "advection"]))
    burgers, advection = pde(DataConfig(**cfg, pde="burgers")), pde(DataConfig(**cfg, pde="advection"))
    x, y = both.train
    assert both.info.head_columns == {"burgers": 32, "advection": 32}
    assert both.info.head_shapes == {"burgers": (1, 32), "advection": (1, 32)}
    assert torch.equal(x, burgers.train[0]) and torch.equal(x, advection.train[0])
    assert torch.equal(y[:, :32], burgers.train[1].flatten(1))
    assert torch.equal(y[:, 32:], advection.train[1].flatten(1))


def test_two_pdes_train_as_one_multitask_run_in_both_engines(tmp_path):
    histories = {}
    for engine in ("lightning", "native"):
        out = tmp_path / engine
        assert run(["fit", "--run-dir", str(out), "--engine", engine, *_flags(tmp_path / "pde")]) == 0
        histories[engine] = json.loads((out / "history.json").read_text())
    light, native = histories["lightning"], histories["native"]
    for a, b in zip(light, native, strict=True):
        keys = [k for k in a if k.startswith(("train/", "val/")) and k != "train/lr"]
        for head in ("burgers", "advection"):
            assert {
                f"val/{head}/nrmse",
                f"train/{head}/nrmse",
                f"val/loss/{head}",
                f"val/{head}/rel_l2",
            } <= set(keys)
        for k in keys:
            assert b[k] == pytest.approx(a[k], rel=1e-5, abs=1e-7), k
        assert a["val/mean_nrmse"] == pytest.approx(
            (a["val/burgers/nrmse"] + a["val/advection/nrmse"]) / 2, rel=1e-6
        )
        # each head's loss is its rel_l2 (the field default), which equals nrmse for one channel
        assert a["val/loss/burgers"] == pytest.approx(a["val/burgers/nrmse"], rel=1e-4)
    config = (tmp_path / "native" / "config.yaml").read_text()
    assert "monitor: val/mean_nrmse" in config


def test_operator_bad_input_is_one_line_and_exit_2(capsys, tmp_path):
    cache = tmp_path / "pde"
    pde_fit = ["fit", "--quiet", "--run-dir", str(tmp_path / "run"), "--epochs", 1]

    def sets(**kw: object) -> list[str]:
        base = {
            "data.source": "pde",
            "data.pde": "advection",
            "data.pde_resolution": 16,
            "data.num_samples": 32,
        }
        return [a for k, v in {**base, "data.root": cache, **kw}.items() for a in ("--set", f"{k}={v}")]

    fields = {"model.name": "fno", "task.type": "regression"}
    # a grid smaller than the padding allows
    assert_user_error(
        capsys,
        *pde_fit,
        *sets(**fields, **{"model.padding": 0.02}),
        match="model.padding=0.02 pads no point of the 16 grid",
    )
    # rollout steps on data without a time axis
    rollout = {"task.loss_terms": "{rollout: {weight: 0.5, steps: 2}}"}
    assert_user_error(
        capsys,
        *pde_fit,
        *sets(**fields, **rollout),
        match="task.loss_terms.rollout needs targets with a time axis",
    )
    # a spectral term on vectors (synthetic data: one number per sample)
    vectors = [
        "--set",
        "data.source=synthetic",
        "--set",
        "data.num_samples=32",
        "--set",
        "task.type=regression",
    ]
    spectral = ["--set", "task.loss_terms={spectral: 0.1}"]
    match = "task.loss_terms.spectral compares the power spectra of fields"
    assert_user_error(capsys, *pde_fit, *vectors, *spectral, match=match)
    # per-task heads whose fields differ from the model's output: one channel for two heads
    wrong = {
        "model.class_path": "field_modules.FieldConv",
        "model.init_args": "{in_channels: 2, out_channels: 1}",
        "model.name": "mlp",
    }
    assert_user_error(capsys, *pde_fit, *_flags(cache, **wrong), match="task needs (B, 2, 32)")
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
