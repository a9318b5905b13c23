"""Loggers write their files; user class_path modules, datamodules and callbacks train with
litrain's trainer, loggers and checkpoints."""

import csv
import json

import pytest
import yaml

import litrain
from litrain.engines.lightning.testing import RecordingCallback


def test_csv_tensorboard_and_wandb_offline_together(tmp_path):
    r = litrain.fit(
        run_dir=tmp_path / "run",
        quiet=True,
        **{
            "trainer.max_epochs": 2,
            "logging.tensorboard": True,
            "logging.wandb.enabled": True,
            "logging.wandb.project": "litrain-test",
            "logging.wandb.tags": ["ci"],
        },
    )
    logs = r.run_dir / "logs"
    rows = list(csv.DictReader((logs / "metrics.csv").open()))
    val = [float(row["val/acc"]) for row in rows if row.get("val/acc")]
    assert len(val) == 2 and val[-1] == pytest.approx(r.metrics["val/acc"])
    events = list((logs / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    assert "val/acc" in acc.Tags()["scalars"]
    assert [e.value for e in acc.Scalars("val/acc")] == pytest.approx(val)
    offline_runs = list((logs / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1
    assert list(offline_runs[0].glob("*.wandb"))


def test_no_csv_when_turned_off(tmp_path):
    r = litrain.fit(run_dir=tmp_path / "run", quiet=True, **{"trainer.max_epochs": 1, "logging.csv": False})
    assert not (r.run_dir / "logs" / "metrics.csv").exists()
    assert json.loads((r.run_dir / "history.json").read_text())[0]["val/acc"] > 0


def test_user_lightning_module_and_datamodule(tmp_path):
    r = litrain.fit(
        run_dir=tmp_path / "run",
        quiet=True,
        **{
            "model.class_path": "litrain.engines.lightning.testing.BoringModule",
            "model.init_args": {"dim": 8, "lr": 0.2},
            "data.class_path": "litrain.engines.lightning.testing.BoringDataModule",
            "trainer.max_epochs": 3,
            "trainer.log_every_n_steps": 1,
        },
    )
    assert r.metrics["val/acc"] > 0.9  # two separable blobs
    assert r.best_checkpoint and "val_acc=" in r.best_checkpoint
    assert (r.run_dir / "logs" / "metrics.csv").is_file()
    assert json.loads((r.run_dir / "summary.json").read_text())["epochs"] == 3


def test_user_nn_module_trains_inside_taskmodule(tmp_path):
    r = litrain.fit(
        run_dir=tmp_path / "run",
        quiet=True,
        **{
            "model.class_path": "litrain.engines.lightning.testing.TinyNet",
            "model.init_args": {"width": 16},
            "trainer.max_epochs": 2,
            "optim.lr": 1e-2,
        },
    )
    assert r.metrics["val/acc"] > 0.5 and "val/f1" in r.metrics
    saved = yaml.safe_load((r.run_dir / "config.yaml").read_text())
    assert saved["model"]["class_path"] == "litrain.engines.lightning.testing.TinyNet"


def test_user_callbacks_are_built_from_config(tmp_path):
    RecordingCallback.instances.clear()
    litrain.fit(
        run_dir=tmp_path / "run",
        quiet=True,
        **{
            "trainer.max_epochs": 1,
            "trainer.limit_train_batches": 4,
            "trainer.callbacks": [
                {
                    "class_path": "litrain.engines.lightning.testing.RecordingCallback",
                    "init_args": {"tag": "a"},
                },
                {"class_path": "lightning.pytorch.callbacks.LearningRateMonitor"},
            ],
        },
    )
    (rec,) = RecordingCallback.instances
    assert rec.tag == "a" and rec.train_batches == 4


def test_bad_class_paths_are_config_errors(tmp_path):
    with pytest.raises(litrain.errors.ConfigError, match="cannot import class_path 'nowhere.Thing'"):
        litrain.fit(run_dir=tmp_path / "a", quiet=True, **{"model.class_path": "nowhere.Thing"})
    with pytest.raises(
        litrain.errors.ConfigError,
        match="trainer.callbacks litrain.engines.lightning.testing.RecordingCallback",
    ):
        litrain.fit(
            run_dir=tmp_path / "b",
            quiet=True,
            **{
                "trainer.callbacks": [
                    {
                        "class_path": "litrain.engines.lightning.testing.RecordingCallback",
                        "init_args": {"nope": 1},
                    }
                ]
            },
        )
