"""Config merging, validation and error messages (no torch needed)."""

import pytest
import yaml

from litrain.config import Config, kwargs_to_overrides, load_config, parse_value, suggest
from litrain.errors import ConfigError
from litrain.run.parts import build_parts


def test_defaults_match_the_design_sketch():
    cfg = Config()
    assert cfg.data.source == "digits"
    assert cfg.model.name == "mlp"
    assert cfg.optim.name == "adamw" and cfg.optim.lr == 1e-3
    assert cfg.trainer.precision == "32-true"
    # the task decides the monitor: classification ranks checkpoints by val/acc, highest first
    assert cfg.checkpoint.monitor == "auto" and cfg.checkpoint.mode == "auto"
    resolved = build_parts(cfg).config.checkpoint
    assert resolved.monitor == "val/acc" and resolved.mode == "max"


@pytest.mark.parametrize(
    ("monitor", "mode", "expected"),
    [
        ("auto", "auto", ("val/acc", "max")),
        ("auto", "min", ("val/acc", "min")),
        ("val/loss", "auto", ("val/loss", "min")),
        ("val/f1", "auto", ("val/f1", "max")),
        ("val/loss", "max", ("val/loss", "max")),
        (None, "auto", (None, "max")),
    ],
)
def test_auto_monitor_and_mode_resolve_from_the_task(monitor, mode, expected):
    cfg = Config.model_validate({"checkpoint": {"monitor": monitor, "mode": mode}})
    ck = build_parts(cfg).config.checkpoint
    assert (ck.monitor, ck.mode) == expected


def test_merge_order_defaults_files_then_overrides(tmp_path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(
        yaml.safe_dump({"trainer": {"max_epochs": 3, "precision": "bf16"}, "data": {"batch_size": 8}})
    )
    b.write_text(yaml.safe_dump({"trainer": {"max_epochs": 5}}))
    cfg = load_config([a, b], {"data.batch_size": 16})
    assert cfg.trainer.max_epochs == 5  # b beats a
    assert cfg.trainer.precision == "bf16-mixed"  # short value canonicalised, kept from a
    assert cfg.data.batch_size == 16  # override beats files
    assert cfg.model.name == "mlp"  # untouched default


def test_unknown_key_names_it_and_suggests_the_closest():
    with pytest.raises(
        ConfigError, match=r"unknown config key 'trainer.max_epoch'.*did you mean trainer.max_epochs"
    ):
        load_config(overrides={"trainer.max_epoch": 3})


def test_unknown_section_is_suggested_too():
    with pytest.raises(ConfigError, match="did you mean optim"):
        load_config(overrides={"optimm.lr": 0.1})


def test_wrong_type_gives_dotted_path_and_value():
    with pytest.raises(ConfigError, match=r"trainer.max_epochs must be a whole number.*, got 'three'"):
        load_config(overrides={"trainer.max_epochs": "three"})


@pytest.mark.parametrize(
    ("key", "value"),
    [("optim.lr", -0.1), ("data.batch_size", 0), ("data.batch_size", -4), ("data.val_split", 1.5)],
)
def test_out_of_range_values_are_refused(key, value):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(overrides={key: value})


def test_precision_short_forms_and_invalid():
    assert load_config(overrides={"trainer.precision": 16}).trainer.precision == "16-mixed"
    assert load_config(overrides={"trainer.precision": "32"}).trainer.precision == "32-true"
    with pytest.raises(ConfigError, match="trainer.precision"):
        load_config(overrides={"trainer.precision": "fp8"})


def test_lr_auto_is_allowed():
    assert load_config(overrides={"optim.lr": "auto"}).optim.lr == "auto"


def test_saved_config_round_trips(tmp_path):
    cfg = load_config(overrides={"model.name": "cnn", "optim.scheduler.name": "step", "trainer.devices": 2})
    cfg.save(tmp_path / "config.yaml")
    again = load_config([tmp_path / "config.yaml"])
    assert again == cfg


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config([tmp_path / "nope.yaml"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config([bad])
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42")
    with pytest.raises(ConfigError, match="mapping"):
        load_config([scalar])


def test_python_kwargs_forms():
    over = kwargs_to_overrides(
        {"trainer__max_epochs": 2, "data": {"batch_size": 4}, "epochs": 7, "optim.lr": 0.5}
    )
    # the alias comes later in the call, so it wins over trainer__max_epochs
    assert over == {"trainer.max_epochs": 7, "data.batch_size": 4, "optim.lr": 0.5}


def test_parse_value_reads_yaml_scalars():
    assert parse_value("3") == 3
    assert parse_value("true") is True
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("1e-3") == 1e-3  # YAML 1.1 alone would give the string '1e-3'
    assert parse_value("cosine") == "cosine"
    assert parse_value("null") is None


def test_suggest_on_leaf_only():
    assert "trainer.max_epochs" in suggest("max_epoch")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "optim.name",
            "adamx",
            "optim.name: unknown optimizer 'adamx'; close matches: adam, radam, nadam, adamw, adagrad. Known: ",
        ),
        (
            "optim.scheduler.name",
            "cosin",
            "optim.scheduler.name: unknown scheduler 'cosin'; close matches: cosine",
        ),
        ("run.engine", "nativ", "run.engine: unknown engine 'nativ'; close matches: native. Known: "),
        ("task.type", "binar", "task.type: unknown task 'binar'; close matches: binary"),
        ("task.loss", "bec", "task.loss: unknown loss 'bec'; close matches: bce"),
        ("trainer.strategy", "dpp", "trainer.strategy: unknown strategy 'dpp'; close matches: ddp"),
        ("data.augment", "flipp", "data.augment: unknown augment preset 'flipp'; close matches: flip"),
        ("data.source", "digit", "data.source: unknown data source 'digit'; close matches: digits"),
    ],
)
def test_vocabulary_fields_are_checked_against_their_registry(key, value, message):
    with pytest.raises(ConfigError) as err:
        load_config(overrides={key: value})
    assert message in str(err.value)


def test_a_registered_name_is_a_valid_config_value():
    from litrain.registry import SCHEDULERS

    SCHEDULERS.register("my_schedule", "litrain.optim.schedulers:none")
    try:
        assert (
            load_config(overrides={"optim.scheduler.name": "my_schedule"}).optim.scheduler.name
            == "my_schedule"
        )
    finally:
        SCHEDULERS.unregister("my_schedule")


def test_config_split_keeps_the_package_names():
    import litrain.config as config
    from litrain.config import keys, load, schema

    assert config.load_config is load.load_config and config.ALIASES is keys.ALIASES
    assert config.Config is schema.Config and set(config.__all__) <= set(dir(config))


def test_overrides_never_change_the_base_dict_they_are_applied_to():
    base = {"model": {"name": "cnn"}, "trainer": {"max_epochs": 2}}
    cfg = load_config(base=base, overrides={"model.name": "mlp", "trainer.max_epochs": 5})
    assert (cfg.model.name, cfg.trainer.max_epochs) == ("mlp", 5)
    assert base == {"model": {"name": "cnn"}, "trainer": {"max_epochs": 2}}
