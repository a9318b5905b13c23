"""A multitask config (two classification heads and a regression head on a generated npz)
trains in both engines with the same numbers: per-step losses, per-epoch metrics and the
final weights, learned log-variances included; per-head monitors rank checkpoints and stop
runs; predict writes one set of columns per head."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import litrain
from helpers import bare_weights, step_loss_tensor
from multitask_data import config, write_npz

BASE = {"trainer.max_epochs": 3, "trainer.log_every_n_steps": 1, "checkpoint.save_top_k": -1}


# one intra-op thread: both engines then sum in the same order (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_thread")


def fit(run_dir: Path, data: Path, **overrides: Any) -> Any:
    return litrain.fit(run_dir=run_dir, quiet=True, overwrite=True, **config(data, **{**BASE, **overrides}))


def history(run_dir: Path) -> list[dict[str, float]]:
    return json.loads((run_dir / "history.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("weighting", ["uncertainty", "dwa"])
def test_engines_agree_on_a_multitask_run(tmp_path: Path, weighting: str):
    data = write_npz(tmp_path / "mt.npz")
    light = fit(tmp_path / "lightning", data, **{"task.weighting": weighting, "run.engine": "lightning"})
    native = fit(tmp_path / "native", data, **{"task.weighting": weighting, "run.engine": "native"})

    a, b = step_loss_tensor(light.run_dir), step_loss_tensor(native.run_dir)
    assert len(a) == len(b) == 18  # 192 training samples, batch 32, 3 epochs
    assert float((a - b).abs().max()) < 1e-5

    ha, hb = history(light.run_dir), history(native.run_dir)
    assert [r["epoch"] for r in ha] == [r["epoch"] for r in hb] == [0, 1, 2]
    for ra, rb in zip(ha, hb, strict=True):
        keys = [k for k in ra if k.startswith(("val/", "train/weight/"))]
        assert {"val/severity/acc", "val/action/balanced_acc", "val/score/mse", "val/loss/score"} <= set(keys)
        assert {"train/weight/severity", "train/weight/action", "train/weight/score", "val/mean_acc"} <= set(
            keys
        )
        for k in keys:
            assert rb[k] == pytest.approx(ra[k], abs=1e-5), k

    sa, sb = bare_weights(light.run_dir), bare_weights(native.run_dir)
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k].float(), sb[k].float(), rtol=0, atol=1e-5)
    if weighting == "uncertainty":
        s = sa["weighting.log_vars"]
        assert s.shape == (3,) and bool((s != 0).all())  # trained
        weights = torch.exp(-s)
        for i, head in enumerate(("severity", "action", "score")):
            assert ha[-1][f"train/weight/{head}"] == pytest.approx(float(weights[i]), abs=1e-6)
    else:  # weights 1 for epochs 0 and 1; epoch 2 from the epoch-mean head losses
        assert all(ha[e][f"train/weight/{h}"] == 1.0 for e in (0, 1) for h in ("severity", "score"))
        rolled = sa["weighting.dwa_weights"]
        assert ha[2]["train/weight/severity"] == pytest.approx(float(rolled[0]), abs=1e-7)
        assert float(rolled.sum()) == pytest.approx(3.0, abs=1e-5) and not torch.equal(rolled, torch.ones(3))


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_a_head_metric_ranks_checkpoints_and_stops_the_run(tmp_path: Path, engine: str):
    data = write_npz(tmp_path / "mt.npz")
    run = fit(
        tmp_path / "run",
        data,
        **{
            "run.engine": engine,
            "trainer.max_epochs": 6,
            "checkpoint.save_top_k": 1,
            "checkpoint.monitor": "val/severity/acc",
            "early_stopping.enabled": True,
            "early_stopping.monitor": "val/mean_acc",
            "early_stopping.mode": "max",
            "early_stopping.patience": 0,
            "optim.lr": 1e-5,  # barely learns: the mean accuracy stalls within a few epochs
        },
    )
    s = run.summary
    assert s["monitor"] == "val/severity/acc"
    best = Path(s["best_checkpoint"]).name
    rows = history(run.run_dir)
    top = max(rows, key=lambda r: r["val/severity/acc"])
    assert best == f"epoch={top['epoch']:02d}-val_severity_acc={top['val/severity/acc']:.4f}.ckpt"
    assert s["stopped_early"] and s["epochs"] < 6
    means = [r["val/mean_acc"] for r in rows]
    assert means[-1] <= max(means[:-1])  # it stopped on an epoch that did not improve


def test_default_monitor_is_mean_acc_and_predict_writes_each_head(tmp_path: Path):
    data = write_npz(tmp_path / "mt.npz")
    run = fit(tmp_path / "run", data, **{"trainer.max_epochs": 1})
    assert run.summary["monitor"] == "val/mean_acc"
    assert Path(run.summary["best_checkpoint"]).name.startswith("epoch=00-val_mean_acc=")
    path = litrain.predict(run_dir=run.run_dir, quiet=True).output
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0])[:6] == [
        "index",
        "severity_target",
        "severity_pred",
        "severity_prob_0",
        "severity_prob_1",
        "severity_prob_2",
    ]
    assert {"action_target", "action_pred", "action_prob_1", "score_target", "score_pred"} <= set(rows[0])
    loaded = litrain.load(run.run_dir)
    with np.load(data) as z:
        x = torch.from_numpy(z["x"])
    probs = loaded.predict(x)
    assert probs.shape == (len(x), 3 + 2 + 1)  # severity, action [p0, p1], score
    # litrain.load gives what predict wrote, for the samples predict wrote (the test split)
    first = {k: float(v) for k, v in rows[0].items() if "prob" in k}
    assert len(first) == 5 and all(0 <= v <= 1 for v in first.values())
