"""The native engine logs to CSV, TensorBoard and W&B with the Lightning engine's metric
names and steps: the same run through both engines gives equal TensorBoard scalars, CSV
rows and W&B history rows; ``logging.wandb.log_model`` works in the default offline mode
in both engines (the checkpoints are artifacts of the offline run, for ``wandb sync``)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

import litrain
from wandb_records import artifacts, history

RUN = {
    "trainer.accelerator": "cpu",
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 5,
    "trainer.limit_val_batches": 2,
    "trainer.log_every_n_steps": 2,
    "logging.tensorboard": True,
    "logging.wandb.enabled": True,
    "logging.wandb.log_model": True,  # offline (the default mode)
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("loggers")
    saved = dict(os.environ)
    # wandb's offline staging and cache stay inside the test's directory
    os.environ.update(WANDB_DATA_DIR=str(root / "wandb-data"), WANDB_CACHE_DIR=str(root / "wandb-cache"))
    os.environ.pop("WANDB_MODE", None)
    try:
        out = {}
        for engine in ("lightning", "native"):
            out[engine] = root / engine
            litrain.fit(run_dir=out[engine], quiet=True, **{**RUN, "run.engine": engine})
        return out
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = (run_dir / "logs" / "tensorboard").glob("events.out.tfevents.*")
    acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _wandb_file(run_dir: Path) -> Path:
    (run,) = (run_dir / "logs" / "wandb").glob("offline-run-*/run-*.wandb")
    return run


def test_tensorboard_scalars_equal_lightning(runs):
    lit, nat = _scalars(runs["lightning"]), _scalars(runs["native"])
    assert {"train/loss_step", "train/lr", "val/loss", "val/acc", "train/loss_epoch", "epoch"} <= set(lit)
    assert set(nat) == set(lit)
    for tag in lit:
        assert [s for s, _ in nat[tag]] == [s for s, _ in lit[tag]], tag
        assert [v for _, v in nat[tag]] == pytest.approx([v for _, v in lit[tag]], rel=1e-5, abs=1e-7), tag
    assert (runs["native"] / "logs" / "tensorboard" / "hparams.yaml").is_file()


def test_csv_rows_equal_lightning(runs):
    def rows(rd: Path) -> list[tuple[str, str, tuple[str, ...]]]:
        with open(rd / "logs" / "metrics.csv") as f:
            return [
                (r["epoch"], r["step"], tuple(sorted(k for k, v in r.items() if v)))
                for r in csv.DictReader(f)
            ]

    assert rows(runs["native"]) == rows(runs["lightning"])


def test_wandb_history_equals_lightning(runs):
    def rows(rd: Path) -> list[dict[str, float]]:
        return [{k: v for k, v in r.items() if not k.startswith("_")} for r in history(_wandb_file(rd))]

    lit, nat = rows(runs["lightning"]), rows(runs["native"])
    assert len(lit) == len(nat) > 5
    for a, b in zip(lit, nat, strict=True):
        assert set(a) == set(b) and a["trainer/global_step"] == b["trainer/global_step"], (a, b)
        assert [b[k] for k in sorted(a)] == pytest.approx([a[k] for k in sorted(a)], rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_log_model_offline_adds_the_checkpoints(runs, engine):
    logged = artifacts(_wandb_file(runs[engine]))
    assert logged, "no model artifact in the offline run"
    assert {a.type for a in logged} == {"model"}
    assert any("best" in a.aliases for a in logged) and any("latest" in a.aliases for a in logged)
    assert all([m.path for m in a.manifest.contents] == ["model.ckpt"] for a in logged)
