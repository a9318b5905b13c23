"""checkpoint.filename templates: checked when the config loads, filled in by the one
formatter both engines use."""

from __future__ import annotations

import pytest

from litrain.checkpoint.naming import checkpoint_filename, format_name
from litrain.config import load_config
from litrain.errors import ConfigError


def test_the_issue_example():
    values = {"stage": "operator", "epoch": 1, "step": 40, "val/nrmse": 0.12341}
    name = format_name("{stage}-epoch={epoch:02d}-{val/nrmse:.4f}", values)
    assert name == "operator-epoch=01-val_nrmse=0.1234"


def test_default_names_are_unchanged():
    assert checkpoint_filename("val/acc") == "epoch={epoch:02d}-val_acc={val/acc:.4f}"
    values = {"epoch": 3, "step": 9, "val/acc": 0.97123, "stage": "x"}
    assert format_name(checkpoint_filename("val/acc"), values) == "epoch=03-val_acc=0.9712"
    assert format_name(checkpoint_filename(None), values) == "epoch=03-step=9"


def test_own_label_missing_metric_and_braces():
    values = {"epoch": 0, "step": 1, "stage": "s", "val/acc": 0.5}
    assert format_name("acc={val/acc:.2f}", values) == "acc=0.50"
    assert format_name("{step}-{val/f1:.3f}", values) == "1-val_f1=nan"
    assert format_name("{{x}}{epoch}", values) == "{x}0"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{epohc}", "unknown field {epohc}: did you mean {epoch}?"),
        ("epoch={epoch", "is not a valid template"),
        ("runs/{epoch}", "'/' outside a {field} would make a folder"),
        ("{val/acc:d}", "bad format spec in {val/acc:d}"),
        ("{epoch}.ckpt", "leave out the .ckpt suffix"),
        ("{epoch!r}", "conversions are not supported"),
    ],
)
def test_bad_templates_are_config_errors(template, message):
    with pytest.raises(ConfigError) as err:
        load_config(overrides={"checkpoint.filename": template})
    assert f"checkpoint.filename={template!r}" in str(err.value) and message in str(err.value)


def test_the_monitor_as_written_is_a_metric_field():
    cfg = load_config(overrides={"checkpoint.monitor": "val_loss", "checkpoint.filename": "{val_loss:.2f}"})
    assert cfg.checkpoint.filename == "{val_loss:.2f}"


def test_a_one_field_template_from_a_flag_stays_a_template():
    from litrain.config import parse_value

    flag = parse_value("{epoch:02d}")  # YAML reads it as a mapping
    assert load_config(overrides={"checkpoint.filename": flag}).checkpoint.filename == "{epoch:02d}"
