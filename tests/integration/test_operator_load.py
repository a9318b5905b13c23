"""Runs of the operator features load without their data (the model card): a rollout run
(task.loss_terms with a time axis, the model wrapped in its rollout) and a multi-task run
of two PDEs predict on raw fields what ``litrain predict`` wrote."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from test_load_without_data import _cli_predict, no_data_rebuild  # noqa: F401  (fixture)

import litrain
from litrain.config import DataConfig
from litrain.data.datamodule import DataModule
from litrain.data.pde import pde

DATA = {"source": "pde", "pde_resolution": 32, "pde_time": 0.25, "num_samples": 64, "test_split": 0.25}
CASES = {
    "rollout": (
        {"pde": "advection", "pde_steps": 3},
        {
            "task.type": "regression",
            "task.loss_terms": {"spectral": 0.1, "rollout": {"weight": 0.5, "steps": 2}},
            "task.dt": 0.1,
        },
    ),
    "multitask": (
        {"pde_tasks": ["burgers", "advection"]},
        {
            "task.type": "multitask",
            "task.heads": {"burgers": {"type": "regression"}, "advection": {"type": "regression"}},
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_operator_runs_load_without_their_data(case, tmp_path, no_data_rebuild):  # noqa: F811
    data, task = CASES[case]
    cache, run = tmp_path / "pde", tmp_path / "run"
    sets = {f"data.{k}": v for k, v in {**DATA, **data, "root": str(cache)}.items()}
    sets.update({"model.name": "fno", "model.width": 8, "model.layers": 2, "trainer.max_epochs": 1})
    litrain.fit(run_dir=run, quiet=True, **sets, **task, **{"data.batch_size": 16})
    _cli_predict(run)
    # the test split's raw fields, as the source gives them, in the split's order
    cfg = DataConfig(**{**DATA, **data, "root": str(cache)})
    dm = DataModule(cfg, litrain.config.TaskConfig(**{k.split(".", 1)[1]: v for k, v in task.items()}), 42)
    dm.setup("fit")
    raw = pde(cfg).train[0][dm.test_set.indices]
    if case == "rollout":
        written = torch.from_numpy(np.load(run / "predictions.npy"))
    else:
        rows = np.loadtxt(run / "predictions.csv", delimiter=",", skiprows=1)
        header = (run / "predictions.csv").read_text().splitlines()[0].split(",")
        written = torch.from_numpy(rows[:, [i for i, h in enumerate(header) if "_pred_" in h]]).float()
    shutil.rmtree(cache)
    no_data_rebuild()
    got = litrain.load(run).predict(raw)
    assert got.shape[0] == len(raw) == 16
    torch.testing.assert_close(got.reshape(written.shape).float(), written, atol=1e-5, rtol=1e-4)
