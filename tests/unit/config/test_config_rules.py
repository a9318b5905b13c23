"""Config rules new users hit: max_time forms, pos_weight on multiclass, W&B keys
that turn W&B on, paths relative to their YAML file, "did you mean" only for close keys, and
messages without pydantic internals. Pure config: no torch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from litrain.config import Config, load_config, suggest
from litrain.config.explain import describe
from litrain.config.keys import unknown_key_hint
from litrain.config.schema import canonical_max_time, max_time_seconds
from litrain.errors import ConfigError


# ------------------------------------------------------------------ trainer.max_time
@pytest.mark.parametrize(
    ("given", "canonical", "seconds"),
    [
        ("00:02:30:00", "00:02:30:00", 9000),
        ("0:2:30:0", "00:02:30:00", 9000),
        ("00:00:90:00", "00:01:30:00", 5400),  # carried over, the form Lightning's regex reads
        ({"hours": 2, "minutes": 30}, "00:02:30:00", 9000),
        ({"days": 1, "seconds": 5}, "01:00:00:05", 86405),
        (9000, "00:02:30:00", 9000),
        (90.2, "00:00:01:31", 91),  # whole seconds, never shorter than asked
        ("5400", "00:01:30:00", 5400),
    ],
)
def test_max_time_forms_normalise_to_dd_hh_mm_ss(given, canonical, seconds):
    cfg = load_config(overrides={"trainer.max_time": given})
    assert cfg.trainer.max_time == canonical
    assert max_time_seconds(cfg.trainer.max_time) == seconds
    assert canonical_max_time(canonical) == canonical  # idempotent: config.yaml reads back


@pytest.mark.parametrize(
    "given", ["2h", "1:30:00", "aa:bb:cc:dd", {"hour": 2}, {"hours": "two"}, 0, -5, True]
)
def test_bad_max_time_names_every_form_with_an_example(given):
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"trainer.max_time": given})
    msg = str(err.value)
    assert msg.startswith("invalid config: trainer.max_time must be")
    for example in ("DD:HH:MM:SS (e.g. 00:02:30:00)", "{hours: 2, minutes: 30}", "seconds (e.g. 9000)"):
        assert example in msg
    assert "Value error" not in msg


def test_native_parse_max_time_reads_what_the_config_accepts():
    from litrain.engines.native.stopping import parse_max_time

    assert parse_max_time(None) is None
    for given in ("00:00:01:30", {"minutes": 1, "seconds": 30}, 90):
        assert parse_max_time(given) == 90.0
    with pytest.raises(ConfigError, match="trainer.max_time='2h': must be DD:HH:MM:SS"):
        parse_max_time("2h")


# ---------------------------------------------------------------- task.pos_weight
def test_pos_weight_on_a_multiclass_task_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"task.pos_weight": 2.0})
    msg = str(err.value)
    assert "task.pos_weight=2.0" in msg and "task.type=classification (multiclass) trains with ce" in msg
    assert "drop task.pos_weight, or set task.type binary or multilabel" in msg
    with pytest.raises(ConfigError, match="task.loss=ce has no positive class"):
        load_config(overrides={"task.pos_weight": 2.0, "task.type": "binary", "task.loss": "ce"})


@pytest.mark.parametrize(
    "task",
    [{"type": "binary"}, {"type": "multilabel"}, {"multilabel": True}, {"loss": "bce", "type": "binary"}],
)
def test_pos_weight_with_a_bce_task_is_kept(task):
    overrides = {f"task.{k}": v for k, v in task.items()}
    assert load_config(overrides={**overrides, "task.pos_weight": 3.0}).task.pos_weight == 3.0


# ------------------------------------------------------------------------- W&B keys
@pytest.mark.parametrize(
    "overrides",
    [
        {"logging.wandb.project": "X", "logging.wandb.name": "Y"},  # --wandb-project X --wandb-name Y
        {"logging.wandb.project": "X"},
        {"logging.wandb.name": "Y"},
        {"logging.wandb.tags": ["a"]},
        {"logging.wandb": {"entity": "team"}},  # a section dict from Python
    ],
)
def test_setting_any_wandb_key_turns_wandb_on_offline(overrides):
    wb = load_config(overrides=overrides).logging.wandb
    assert wb.enabled is True
    assert wb.mode == "offline"


def test_wandb_online_only_when_asked_and_off_when_said():
    assert load_config(overrides={"logging.wandb.mode": "online"}).logging.wandb.enabled is True
    assert load_config(overrides={"logging.wandb.mode": "disabled"}).logging.wandb.enabled is False
    off = load_config(overrides={"logging.wandb.project": "X", "logging.wandb.enabled": False})
    assert off.logging.wandb.enabled is False  # an explicit false wins
    assert load_config().logging.wandb.enabled is False  # nothing set: nothing on


def test_wandb_key_in_a_file_and_flags_over_a_saved_config(tmp_path):
    recipe = tmp_path / "wb.yaml"
    recipe.write_text("logging:\n  wandb:\n    project: lens\n")
    assert load_config([recipe]).logging.wandb.enabled is True
    saved = tmp_path / "config.yaml"  # a run's config.yaml says enabled: false explicitly
    Config().save(saved)
    assert load_config([saved]).logging.wandb.enabled is False
    assert load_config([saved], {"logging.wandb.project": "X"}).logging.wandb.enabled is True


def test_cli_wandb_short_flags_resolve_to_enabled_offline(capsys):
    from litrain.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["config", "show", "--wandb-project", "X", "--wandb-name", "Y"])
    assert exc.value.code == 0
    wb = yaml.safe_load(capsys.readouterr().out)["logging"]["wandb"]
    assert wb["enabled"] is True and wb["mode"] == "offline"
    assert (wb["project"], wb["name"]) == ("X", "Y")


# ------------------------------------------------------------- paths in a YAML file
def test_relative_paths_in_a_file_are_relative_to_that_file(tmp_path, monkeypatch):
    conf = tmp_path / "project" / "configs"
    conf.mkdir(parents=True)
    (conf / "job.yaml").write_text(
        yaml.safe_dump(
            {
                "run": {"dir": "../runs/a"},
                "data": {"root": "../data"},
                "model": {"weights": "w.safetensors"},
                "checkpoint": {"dir": "ckpts"},
            }
        )
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config([Path("..") / "project" / "configs" / "job.yaml"])
    assert Path(cfg.data.root).resolve() == tmp_path / "project" / "data"
    assert Path(cfg.run.dir).resolve() == tmp_path / "project" / "runs" / "a"
    assert Path(cfg.model.weights).resolve() == conf / "w.safetensors"
    assert Path(cfg.checkpoint.dir).resolve() == conf / "ckpts"


def test_flags_stay_relative_to_the_working_directory_and_urls_absolute_untouched(tmp_path):
    f = tmp_path / "job.yaml"
    f.write_text("data: {root: 's3://bucket/shards'}\nmodel: {weights: /abs/w.pt}\ncheckpoint: {dir: ~/ck}\n")
    cfg = load_config([f], {"run.dir": "runs/b"})
    assert cfg.data.root == "s3://bucket/shards"
    assert cfg.model.weights == "/abs/w.pt"
    assert cfg.checkpoint.dir == "~/ck"
    assert cfg.run.dir == "runs/b"  # a flag: as typed, relative to the working directory


def test_a_saved_config_reads_back_the_same_paths_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(overrides={"data.root": "data", "model.weights": "w.pt"})
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    cfg.save(run / "config.yaml")
    monkeypatch.chdir(run)
    again = load_config([run / "config.yaml"])
    assert again.data.root == str(tmp_path / "data")
    assert again.model.weights == str(tmp_path / "w.pt")


# ------------------------------------------------------------- did-you-mean hints
@pytest.mark.parametrize(
    ("key", "docs"),
    [
        ("stagger", None),  # not "stage": that one means stages
        ("freezing_strategy", None),
        ("model.model_type", "docs/models.md"),
        ("trainer.track_grad_norm", "docs/training.md"),
        ("data.tokenizer_path", "docs/data.md"),  # data.train_urls exists now (shards)
    ],
)
def test_unrelated_keys_are_not_suggested(key, docs):
    assert suggest(key) == ""
    hint = unknown_key_hint(key, "fit", flag=True)
    assert "did you mean" not in hint
    assert "`litrain fit --help` lists every flag" in hint
    if docs:
        assert docs in hint
    with pytest.raises(ConfigError) as err:
        load_config(overrides={key if "." in key else f"trainer.{key}": 1})
    assert "did you mean" not in str(err.value) and "litrain fit --help" in str(err.value)


@pytest.mark.parametrize(
    ("key", "flag", "meant"),
    [
        ("trainer.max_epoch", False, "trainer.max_epochs"),
        ("trainer.fsdp.shardng", False, "trainer.fsdp.sharding"),
        ("optimm.lr", False, "optim.lr"),
        ("model.batch_size", False, "data.batch_size"),  # the same key in its own section
        ("max_epoch", False, "trainer.max_epochs"),
        ("epoch", True, "--epochs"),
        ("batch_size", True, "--batch-size"),
        ("trainer.max_epoch", True, "trainer.max_epochs"),
    ],
)
def test_close_keys_are_still_suggested(key, flag, meant):
    assert unknown_key_hint(key, "fit", flag=flag) == f" (did you mean {meant}?)"


# ------------------------------------------------ messages without pydantic internals
def test_bad_lr_is_one_plain_line():
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"optim.lr": "abc"})
    assert str(err.value) == "invalid config: optim.lr must be a positive number or 'auto', got 'abc'"


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("optim.lr", -1, "optim.lr must be a positive number or 'auto', got -1"),
        (
            "trainer.profiler",
            "fast",
            "trainer.profiler must be one of 'simple', 'advanced', 'pytorch' or null",
        ),
        ("trainer.gradient_clip_algorithm", "l2", "must be one of 'norm', 'value', got 'l2'"),
        ("trainer.limit_train_batches", "all", "must be a positive number or null, got 'all'"),
        ("trainer.max_epochs", "three", "trainer.max_epochs must be a whole number >= -1, got 'three'"),
        ("data.batch_size", 0, "data.batch_size must be greater than 0, got 0"),
        ("model.hidden", [64, "x"], "model.hidden[1] must be a whole number, got 'x'"),
        ("trainer", 3, "trainer must be a mapping of its keys"),
        ("trainer.devices", "many", "trainer.devices must be a positive number or 'auto', got 'many'"),
    ],
)
def test_errors_speak_the_schema_not_pydantic(key, value, line):
    with pytest.raises(ConfigError) as err:
        load_config(overrides={key: value})
    msg = str(err.value)
    assert line in msg
    for internal in ("literal[", ".float", ".int", "Input should", "Value error", "function-after", "union"):
        assert internal not in msg, msg


def test_several_errors_are_one_line_each():
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"optim.lr": "abc", "data.batch_size": 0})
    lines = str(err.value).splitlines()
    assert lines[0] == "invalid config:"
    assert len(lines) == 3


def test_describe_words():
    assert describe(int | float | None, []) == "a number or null"
    assert describe(bool) == "true or false"
    assert describe(str | None) == "text or null"


def test_recipes_read_the_repositorys_data_folder_from_any_directory(tmp_path, monkeypatch):
    repo = Path(__file__).resolve().parents[3]
    monkeypatch.chdir(tmp_path)  # not the repo root: the recipes' paths must not depend on it
    roots = {p.name: load_config([p]).data.root for p in sorted((repo / "configs").glob("*.yaml"))}
    for name, root in roots.items():
        if root:
            assert Path(root).resolve().is_relative_to(repo / "data"), (name, root)
    assert any(roots.values())


# ------------------------------------------------------------------ finetune that does nothing
@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        (
            {"finetune.strategy": "epochs", "finetune.unfreeze_at_epoch": 10, "trainer.max_epochs": 2},
            "finetune.unfreeze_at_epoch=10 is never reached: trainer.max_epochs=2 runs epochs 0 to 1",
        ),
        (
            {"finetune.strategy": "gradual", "trainer.max_epochs": 1},
            "finetune.unfreeze_at_epoch=1 is never reached",
        ),
        (
            {"finetune.unfreeze_at_epoch": 3},
            "finetune.unfreeze_at_epoch=3 does nothing with finetune.strategy=none",
        ),
        (
            {"finetune.adaptive_patience": 3},
            "finetune.adaptive_patience=3 does nothing with finetune.strategy=none",
        ),
        ({"finetune.train_bn": False}, "finetune.train_bn=false does nothing with finetune.strategy=none"),
        (
            {"finetune.strategy": "epochs", "finetune.every_epochs": 2},
            "finetune.every_epochs=2 does nothing with finetune.strategy=epochs: it is read by strategy gradual",
        ),
    ],
)
def test_inert_or_impossible_finetune_settings_are_config_errors(overrides, said):
    with pytest.raises(ConfigError, match=re.escape(said)):
        load_config(overrides=overrides)


def test_finetune_settings_that_act_pass_and_a_saved_config_reads_back(tmp_path):
    ok = {"finetune.strategy": "epochs", "finetune.unfreeze_at_epoch": 1, "trainer.max_epochs": 2}
    cfg = load_config(overrides=ok)
    load_config(overrides={"finetune.monitor": "val/acc", "finetune.mode": "max"})  # filled in by a run
    load_config(
        overrides={"finetune.backbone_lr_ratio": 0.1, "trainer.max_epochs": -1, "trainer.max_steps": 100}
    )
    cfg.save(tmp_path / "config.yaml")  # every key written out, defaults included
    assert load_config([tmp_path / "config.yaml"]).finetune == cfg.finetune


def test_every_broken_rule_across_sections_is_reported_in_one_run():
    """Four rules broken at once: four lines in one error, in the order the rules run."""
    with pytest.raises(ConfigError) as info:
        load_config(
            overrides={
                "optim.name": "muon",
                "optim.no_decay": ["bias"],
                "logging.train_metrics": True,
                "trainer.oom_recovery": True,
                "trainer.max_epochs": 1,
                "finetune.strategy": "epochs",
                "finetune.unfreeze_at_epoch": 5,
                "stages": [{"name": "a"}, {"name": "a"}],
            }
        )
    lines = str(info.value).splitlines()[1:]
    assert len(lines) == 4, str(info.value)
    assert "both named 'a'" in lines[0]
    assert "logging.train_metrics and trainer.oom_recovery cannot be combined" in lines[1]
    assert "optim.name=muon makes its own parameter groups" in lines[2]
    assert "finetune.unfreeze_at_epoch=5 is never reached" in lines[3]
