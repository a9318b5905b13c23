"""A monitor that is never logged falls back to last.ckpt only with one line; early stopping
says when it stops and both engines record stopped_early/stop_reason in summary.json."""

from __future__ import annotations

import json

import pytest

import litrain
from litrain.errors import ConfigError

SMALL = {"trainer.max_epochs": 2, "trainer.limit_train_batches": 4, "trainer.limit_val_batches": 2}


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_no_validation_data_keeps_last_only(tmp_path, capsys, engine):
    r = litrain.fit(run_dir=tmp_path / "run", **SMALL, **{"data.val_split": 0.0, "run.engine": engine})
    err = capsys.readouterr().err
    ckpts = sorted(p.name for p in (r.run_dir / "checkpoints").glob("*.ckpt"))
    assert ckpts == ["last.ckpt"]
    assert r.summary["steps"] == 8 and r.best_checkpoint is None
    assert err.count("checkpoint.monitor=val/acc is not logged") == 1, err
    assert "(logged: train/loss" in err and "keeping last.ckpt only" in err


def test_user_module_that_logs_other_names(tmp_path, capsys):
    r = litrain.fit(
        run_dir=tmp_path / "run",
        **{
            "model.class_path": "litrain.engines.lightning.testing.BoringModule",
            "data.class_path": "litrain.engines.lightning.testing.BoringDataModule",
            "checkpoint.monitor": "val/f1",  # BoringModule logs val/acc and val/loss only
            "trainer.max_epochs": 2,
        },
    )
    err = capsys.readouterr().err
    assert (r.run_dir / "checkpoints" / "last.ckpt").is_file()
    assert r.summary["epochs"] == 2
    assert err.count("checkpoint.monitor=val/f1 is not logged") == 1, err
    assert "val/acc" in err and "val/loss" in err


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_early_stopping_on_a_metric_that_cannot_exist_is_refused_before_training(tmp_path, engine):
    with pytest.raises(
        ConfigError, match=r"early_stopping.monitor=val/acc is never logged.*no validation data"
    ):
        litrain.fit(
            run_dir=tmp_path / "run",
            quiet=True,
            **SMALL,
            **{"data.val_split": 0.0, "run.engine": engine, "early_stopping.enabled": True},
            **{"early_stopping.monitor": "val/acc"},
        )
    assert not list(tmp_path.rglob("*.ckpt"))  # refused before the first step


def test_user_module_early_stopping_on_a_missing_metric_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"early_stopping.monitor=val/f1 is not logged \(logged: .*val/acc"):
        litrain.fit(
            run_dir=tmp_path / "run",
            quiet=True,
            **{
                "model.class_path": "litrain.engines.lightning.testing.BoringModule",
                "data.class_path": "litrain.engines.lightning.testing.BoringDataModule",
                "early_stopping.enabled": True,
                "early_stopping.monitor": "val/f1",
                "trainer.max_epochs": 2,
            },
        )


STOP = {
    "trainer.max_epochs": 6,
    "trainer.limit_train_batches": 4,
    "early_stopping.enabled": True,
    "early_stopping.monitor": "val/acc",
    "early_stopping.mode": "max",
    "early_stopping.patience": 0,
    "early_stopping.min_delta": 0.5,  # no epoch improves by that much: stops after epoch 1
}


def test_early_stopping_says_so_and_both_engines_record_it(tmp_path, capsys):
    out = {}
    for engine in ("lightning", "native"):
        r = litrain.fit(run_dir=tmp_path / engine, **STOP, **{"run.engine": engine})
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if "early stopping at epoch" in line]
        assert len(lines) == 1, err
        assert (
            "early stopping at epoch 1: val/acc did not improve in the last epoch; best val/acc 0."
            in lines[0]
        )
        summary = json.loads((r.run_dir / "summary.json").read_text())
        out[engine] = summary
        assert summary["stopped_early"] is True
        assert summary["epochs"] == 2
    assert out["lightning"]["stop_reason"] == out["native"]["stop_reason"]
    assert out["native"]["stop_reason"] == "val/acc did not improve in the last epoch"


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_a_run_that_trains_to_its_end_records_why(tmp_path, engine):
    r = litrain.fit(run_dir=tmp_path / "run", quiet=True, **SMALL, **{"run.engine": engine})
    assert r.summary["stopped_early"] is False and r.summary["stop_reason"] == "max_epochs reached"
    capped = litrain.fit(
        run_dir=tmp_path / "cap", quiet=True, **SMALL, **{"run.engine": engine, "trainer.max_steps": 3}
    )
    assert capped.summary["stop_reason"] == "max_steps reached"
