"""kill -9 mid-training and ``--resume last`` with learned (uncertainty) or rolled (dwa)
head weights: the log-variances, the dwa sums and weights, every other weight and the logged
head weights equal an uninterrupted run bit for bit, in both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from reliability_helpers import assert_same_weights, killrun

import litrain
from multitask_data import HEADS, write_npz


def _config(tmp_path: Path, engine: str, weighting: str) -> Path:
    data = write_npz(tmp_path / "mt.npz")
    cfg = {
        "run": {"engine": engine},
        "data": {"source": "arrays", "root": str(data), "batch_size": 32},
        "model": {"name": "mlp", "dropout": 0.1},
        "task": {"type": "multitask", "heads": HEADS, "weighting": weighting},
        "trainer": {"max_epochs": 3},
        "checkpoint": {"every_n_steps": 3},
    }
    path = tmp_path / "mt.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _final(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


def _weights_logged(run: Path) -> list[dict[str, float]]:
    rows = json.loads((run / "history.json").read_text())
    return [{k: v for k, v in r.items() if k.startswith("train/weight/")} for r in rows]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("engine", "weighting", "kills"),
    [
        # step 11: mid-epoch 1, resumed from last.ckpt of step 9 (dwa: the epoch's partial
        # sums in it); then 5 batches on: step 14 in epoch 2, resumed from the epoch-1-end
        # checkpoint, so dwa's first real roll happens in the resumed process
        ("lightning", "uncertainty", ["step:11"]),
        ("native", "uncertainty", ["step:11"]),
        ("lightning", "dwa", ["step:11", "step:5"]),
    ],
)
def test_resume_after_kill9_keeps_head_weights_bit_identical(
    tmp_path: Path, engine: str, weighting: str, kills: list[str]
):
    cfg = _config(tmp_path, engine, weighting)
    litrain.fit(str(cfg), run_dir=tmp_path / "ref", quiet=True)

    run = tmp_path / "killed"
    for i, kill_at in enumerate(kills):
        flags = ["--config", str(cfg), *(["--resume", "last"] if i else [])]
        assert killrun(run, kill_at, *flags).returncode == -9
    done = killrun(run, "", "--config", str(cfg), "--resume", "last")
    assert done.returncode == 0, done.stderr[-2000:]

    a, b = _final(tmp_path / "ref"), _final(run)
    assert a["global_step"] == b["global_step"] == 18
    assert_same_weights(a["state_dict"], b["state_dict"])
    name = "weighting.log_vars" if weighting == "uncertainty" else "weighting.dwa_weights"
    key = next(k for k in a["state_dict"] if k.endswith(name))
    assert not torch.equal(
        a["state_dict"][key], torch.zeros(3) if weighting == "uncertainty" else torch.ones(3)
    )
    assert _weights_logged(tmp_path / "ref") == _weights_logged(run)
