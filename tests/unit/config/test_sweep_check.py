"""The sweep: section, read and checked before any trial (config/sweep_check.py): each broken
rule one line naming the key, and the trial configs built from a trial's values."""

from __future__ import annotations

import pytest

from litrain.config import load_config
from litrain.config.sweep_check import sweep_of, trial_base, trial_config
from litrain.errors import ConfigError

SPACE = {"optim.lr": {"log_uniform": [1e-4, 1e-1]}, "data.batch_size": {"choice": [16, 32]}}


def _cfg(**sweep):
    return load_config(base={"sweep": {"metric": "val/acc", "space": SPACE, **sweep}})


def test_a_good_section_reads_back_with_its_defaults():
    s = sweep_of(_cfg(direction="min"))
    assert (s.direction, s.trials, s.sampler, s.pruner) == ("minimize", 20, "tpe", "median")
    assert s.space["optim.lr"].kind == "log_uniform" and s.space["data.batch_size"].edges() == [16, 32]
    assert s.space_dict() == {
        "data.batch_size": {"choice": [16, 32]},
        "optim.lr": {"log_uniform": [1e-4, 1e-1]},
    }


@pytest.mark.parametrize(
    ("sweep", "line"),
    [
        ({"direction": "up"}, "sweep.direction: direction='up': use min or max"),
        (
            {"space": {"optim.lr": {"uniform": [0.1, 0.1]}}},
            "sweep.space.optim.lr: uniform: [0.1, 0.1] is an empty range",
        ),
        ({"space": {"data.batch_size": {"choice": []}}}, "choice: [] is an empty range"),
        ({"space": {"optim.lr": {"log_uniform": [0, 1]}}}, "needs bounds above 0"),
        ({"space": {"optim.lr": {"uniform": [0, 1], "choice": [1]}}}, "give exactly one of"),
        ({"space": {}}, "the space is empty"),
        (
            {"space": {"optim.learning_rate": {"uniform": [0.1, 1]}}},
            "sweep.space: unknown config key 'optim.learning_rate'",
        ),
        (
            {"space": {"model.dropout": {"uniform": [0.0, 1.5]}}},
            "sweep.space.model.dropout: the config refuses 1.5",
        ),
        ({"space": {"optim": {"uniform": [0.0, 1.0]}}}, "sweep.space.optim is a section, not a value"),
        ({"sampler": "grid"}, "sampler=grid needs choice or int ranges; optim.lr is continuous"),
        ({"trials": 0}, "sweep.trials:"),
        ({"pruner": "asha"}, "sweep.pruner:"),
        ({"budget": 3}, "sweep.budget: unknown key"),
    ],
)
def test_a_broken_section_is_one_line_naming_the_key(sweep, line):
    with pytest.raises(ConfigError) as exc:
        sweep_of(_cfg(**sweep))
    msg = str(exc.value)
    assert line in msg and "\n" not in msg


def test_a_config_without_a_sweep_section_is_refused():
    with pytest.raises(ConfigError, match="litrain sweep needs a sweep: section"):
        sweep_of(load_config())


def test_a_missing_metric_is_named():
    with pytest.raises(ConfigError, match=r"sweep\.metric: is required"):
        sweep_of(load_config(base={"sweep": {"space": SPACE}}))


def test_a_trial_config_is_the_base_with_the_trials_values_and_no_sweep():
    base = trial_base(_cfg())
    cfg = trial_config(base, {"optim.lr": 0.0123, "data.batch_size": 32})
    assert cfg.sweep is None and cfg.optim.lr == 0.0123 and cfg.data.batch_size == 32
    assert cfg.model == base.model


def test_the_lens_sweep_recipe_is_a_valid_search():
    from pathlib import Path

    cfg = load_config([Path(__file__).parents[3] / "configs" / "lens_sweep.yaml"])
    s = sweep_of(cfg)
    assert (s.metric, s.direction, s.trials) == ("val/auroc", "maximize", 50)
    assert s.space["data.batch_size"].choice == [32, 64, 128] and s.space["optim.lr"].kind == "log_uniform"
