"""changed_keys: the dotted keys two configs set differently, paths compared as config.yaml
stores them (what a pipeline rerun checks a finished stage's saved config against)."""

from __future__ import annotations

from litrain.config import load_config
from litrain.config.diff import changed_keys


def test_a_saved_config_read_back_elsewhere_has_no_changes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(overrides={"checkpoint.dir": "ck", "optim.lr": 0.01})
    (tmp_path / "sub").mkdir()
    cfg.save(tmp_path / "sub" / "config.yaml")
    saved = load_config([tmp_path / "sub" / "config.yaml"])
    assert saved.checkpoint.dir == str(tmp_path / "ck") and cfg.checkpoint.dir == "ck"
    assert changed_keys(saved, cfg) == []


def test_each_changed_leaf_is_named_with_both_values_sorted():
    was = load_config(overrides={"optim.lr": 0.01, "trainer.max_epochs": 3})
    now = load_config(overrides={"optim.lr": 0.001, "trainer.max_epochs": 3, "data.batch_size": 8})
    assert changed_keys(was, now) == [("data.batch_size", 64, 8), ("optim.lr", 0.01, 0.001)]
