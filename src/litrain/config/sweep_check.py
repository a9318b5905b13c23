"""The ``sweep:`` section read and checked before the first trial (no torch): the section's
own rules, every key of the space a key of the config, every edge of a range (and every
choice) a value the config accepts."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from litrain.config.keys import all_keys, leaf_fields, unknown_key_hint
from litrain.config.load import load_config
from litrain.config.schema import Config
from litrain.config.sweep import SweepConfig
from litrain.errors import ConfigError


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def sweep_of(cfg: Config) -> SweepConfig:
    """The config's ``sweep:`` section, validated; one ConfigError line naming the key."""
    if not cfg.sweep:
        raise ConfigError(
            "litrain sweep needs a sweep: section (metric, direction, trials, space): see docs/sweeps.md"
        )
    try:
        sweep = SweepConfig.model_validate(cfg.sweep)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _where(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (sweep takes metric, direction, trials, sampler, pruner, seed, space, storage, study)"
        elif err["type"] == "missing":
            msg = "is required"
        raise ConfigError(f"invalid sweep: sweep.{where}{': ' if where else ''}{msg}") from None
    check_space(cfg, sweep)
    return sweep


def check_space(cfg: Config, sweep: SweepConfig) -> None:
    """Every key a leaf of the config; each edge of its range a value the config takes."""
    leaves = {k for k, _ in leaf_fields()}
    keys = set(all_keys())
    base = trial_base(cfg)
    for key, spec in sweep.space.items():
        if key not in keys or key.startswith(("sweep", "stages")):
            raise ConfigError(f"sweep.space: unknown config key '{key}'{unknown_key_hint(key, 'sweep')}")
        if key not in leaves and spec.kind != "choice":
            raise ConfigError(f"sweep.space.{key} is a section, not a value: search one of its keys")
        for value in spec.edges():
            try:
                load_config(base=base, overrides={key: value})
            except ConfigError as exc:
                why = str(exc).removeprefix("invalid config: ")
                raise ConfigError(f"sweep.space.{key}: the config refuses {value!r}: {why}") from None


def trial_base(cfg: Config) -> Config:
    """The config every trial starts from: the sweep's own config without its sweep: section."""
    return cfg.model_copy(update={"sweep": None})


def trial_config(base: Config, params: dict[str, Any]) -> Config:
    """``base`` with the trial's sampled values set (validated as any config)."""
    return load_config(base=base, overrides=dict(params))
