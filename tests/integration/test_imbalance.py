"""Class balancing trains the same numbers in both engines: a balanced sampler with the
focal loss and computed class weights, on the in-memory and the DataLoader path; the
weights line is printed once, and config.yaml records the weights the loss used."""

from __future__ import annotations

import pytest
import torch
import yaml

import litrain
from helpers import bare_weights, step_losses

RUN = {
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 3,
    "trainer.limit_val_batches": 1,
    "trainer.log_every_n_steps": 1,
    "data.sampler": "progressive",
    "data.progressive_epochs": 1,  # epoch 0 natural, epoch 1 balanced
    "task.loss": "focal",
    "task.focal_gamma": 1.5,
    "task.class_weights": "inverse",
}


# one intra-op thread: both engines then sum in the same order (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("in_memory", ["true", "false"])
def test_engines_agree_with_weighted_sampling_and_focal_loss(tmp_path, capfd, in_memory):
    runs = {}
    for engine in ("lightning", "native"):
        cfg = {**RUN, "run.engine": engine, "data.in_memory": in_memory}
        runs[engine] = litrain.fit(run_dir=tmp_path / engine, quiet=engine == "native", **cfg)
    err = capfd.readouterr().err
    assert err.count("litrain: task.class_weights (inverse) from the training split's counts") == 1

    light, native = runs["lightning"].run_dir, runs["native"].run_dir
    assert len(step_losses(light)) == 6
    assert step_losses(native) == pytest.approx(step_losses(light), rel=1e-5)
    wl, wn = bare_weights(light), bare_weights(native)
    assert wl.keys() == wn.keys()
    for key, value in wl.items():
        torch.testing.assert_close(wn[key], value, rtol=0, atol=1e-6)

    saved = yaml.safe_load((light / "config.yaml").read_text())["task"]["class_weights"]
    counts = runs["lightning"].config.task.class_weights
    assert saved == pytest.approx(counts) and len(saved) == 10 and min(saved) > 0
