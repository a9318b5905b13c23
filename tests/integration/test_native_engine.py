"""The native engine on its own: the run directory it leaves, Lightning-free imports, its
stopping rules and the Lightning-only settings it refuses."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch
import yaml
from test_parity import (
    fit,
    one_thread,  # noqa: F401  (autouse fixture)
)

import litrain
from litrain.errors import ConfigError

FAST = {"trainer.max_epochs": 2, "model.hidden": [32]}


def test_run_dir_layout_matches_the_lightning_engine(tmp_path):
    native = fit(tmp_path / "n", "native", **FAST, **{"checkpoint.save_top_k": 1})
    light = fit(tmp_path / "l", "lightning", **FAST, **{"checkpoint.save_top_k": 1})
    rd = native.run_dir
    for name in ("config.yaml", "history.json", "summary.json", "logs/metrics.csv", "logs/hparams.yaml"):
        assert (rd / name).is_file(), name
    assert sorted(p.name for p in (rd / "plots").glob("*.png")) == sorted(
        p.name for p in (light.run_dir / "plots").glob("*.png")
    )
    summary = json.loads((rd / "summary.json").read_text())
    keys = {
        "engine",
        "metrics",
        "best_metric",
        "best_checkpoint",
        "last_checkpoint",
        "epochs",
        "steps",
        "wall_time_s",
        "versions",
    }
    assert keys <= summary.keys()
    assert summary["engine"] == "native" and summary["epochs"] == 2 and summary["steps"] == 46
    assert summary["best_checkpoint"].endswith(f"epoch=01-val_acc={summary['metrics']['val/acc']:.4f}.ckpt")
    assert summary["last_checkpoint"] == "checkpoints/last.ckpt"  # relative to the run dir
    header = (rd / "logs" / "metrics.csv").read_text().splitlines()[0]
    assert header == (light.run_dir / "logs" / "metrics.csv").read_text().splitlines()[0]
    history = json.loads((rd / "history.json").read_text())
    assert [row["epoch"] for row in history] == [0, 1]
    assert history[-1]["val/acc"] == summary["metrics"]["val/acc"]
    assert yaml.safe_load((rd / "config.yaml").read_text())["run"]["engine"] == "native"
    ckpt = torch.load(rd / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["format"] == "litrain.native/1" and ckpt["epoch"] == 1 and ckpt["global_step"] == 46
    assert not any(k.startswith("model.") for k in ckpt["state_dict"])


def test_native_path_never_imports_lightning(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        import litrain
        litrain.fit(run_dir={str(tmp_path / "run")!r}, quiet=True, **{{"run.engine": "native",
                    "trainer.max_epochs": 1, "model.hidden": [16]}})
        loaded = sorted(m for m in sys.modules if m == "lightning" or m.startswith(("lightning.",
                        "pytorch_lightning")))
        print("LOADED", loaded)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr


def test_early_stopping_stops_at_the_same_epoch_as_lightning(tmp_path):
    stop = {
        "trainer.max_epochs": 6,
        "early_stopping.enabled": True,
        "early_stopping.monitor": "val/acc",
        "early_stopping.mode": "max",
        "early_stopping.patience": 1,
        "early_stopping.min_delta": 0.05,
    }
    native = fit(tmp_path / "n", "native", **stop)
    light = fit(tmp_path / "l", "lightning", **stop)
    assert native.summary["epochs"] == light.summary["epochs"] < 6
    assert native.summary["stopped_early"] is light.summary["stopped_early"] is True
    assert "did not improve" in native.summary["stop_reason"]
    assert native.summary["stop_reason"] == light.summary["stop_reason"]


def test_max_steps_and_fast_dev_run(tmp_path):
    capped = fit(tmp_path / "cap", "native", **FAST, **{"trainer.max_steps": 30})
    assert capped.summary["steps"] == 30
    dev = fit(tmp_path / "dev", "native", **{"trainer.fast_dev_run": True})
    assert dev.summary["steps"] == 1
    assert not (tmp_path / "dev" / "checkpoints").exists()


def test_monitor_none_keeps_the_newest_checkpoint(tmp_path):
    run = fit(tmp_path / "n", "native", **FAST, **{"checkpoint.monitor": None, "checkpoint.save_top_k": 1})
    names = sorted(p.name for p in (run.run_dir / "checkpoints").glob("*.ckpt"))
    assert names == ["epoch=01-step=46.ckpt", "last.ckpt"]


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ({"trainer.profiler": "simple"}, "trainer.profiler=simple"),
        ({"trainer.devices": 2}, "multi-device"),
        ({"optim.lr": "auto"}, "LR finder"),
        ({"trainer.val_check_interval": 0.5}, "val_check_interval"),
    ],
)
def test_lightning_only_settings_are_refused_clearly(tmp_path, setting, words):
    with pytest.raises(ConfigError, match="run.engine=native does not support") as err:
        litrain.fit(run_dir=tmp_path / "r", quiet=True, **{"run.engine": "native"}, **setting)
    assert words in str(err.value) and "run.engine=lightning" in str(err.value)


def test_unknown_monitor_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="checkpoint.monitor=val/nope is not a logged metric"):
        fit(tmp_path / "r", "native", **FAST, **{"checkpoint.monitor": "val/nope"})


def test_cli_fit_engine_native(tmp_path):
    from litrain.cli import run

    assert (
        run(["fit", "--engine", "native", "--epochs", "1", "--quiet", "--run-dir", str(tmp_path / "r")]) == 0
    )
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["engine"] == "native"
