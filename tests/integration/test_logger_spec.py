"""A logger backend is one spec for both engines: a toy backend registered here, with no
Lightning logger of its own, gets from the Lightning engine (through its adapter) exactly
the calls the native engine makes, and the same rows the CSV logger writes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from helpers import tiny_fit
from litrain.config import Config
from litrain.errors import ConfigError
from litrain.registry import LOGGERS
from litrain.run.loggers.spec import Checkpoints, LoggerSpec

Row = tuple[int, int, dict[str, float]]  # (epoch, step, metrics)


class ToyWriter:
    """Records every call; ``closed`` counts the end of the fit."""

    def __init__(self, rows: list[Row], log_dir: Path) -> None:
        self.rows, self.log_dir, self.closed = rows, log_dir, 0

    def log(self, metrics: dict[str, float], epoch: int, step: int) -> None:
        self.rows.append((epoch, step, dict(metrics)))

    def flush(self) -> None:
        pass

    def close(self, checkpoints: Checkpoints) -> None:
        self.rows.append((-1, -1, {"closed": 1.0}))


@pytest.fixture(scope="module")
def toy_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[Row], Path]]:
    root = tmp_path_factory.mktemp("toy")
    rows: dict[str, list[Row]] = {}

    def open_toy(cfg: Config, log_dir: Path) -> ToyWriter:
        assert log_dir == cfg_dirs[cfg.run.engine] / "logs"
        return ToyWriter(rows.setdefault(cfg.run.engine, []), log_dir)

    cfg_dirs = {engine: root / engine for engine in ("lightning", "native")}
    LOGGERS.register("toy", LoggerSpec(key="logging.toy", enabled=lambda cfg: True, writer=open_toy))
    try:
        for engine, run_dir in cfg_dirs.items():
            tiny_fit(run_dir, engine)
    finally:
        LOGGERS.unregister("toy")
    return {engine: (rows[engine], cfg_dirs[engine]) for engine in cfg_dirs}


def _names_and_steps(rows: list[Row]) -> list[tuple[int, int, list[str]]]:
    return [(epoch, step, sorted(metrics)) for epoch, step, metrics in rows]


def test_both_engines_give_a_registered_backend_the_same_names_and_steps(toy_rows):
    lit, nat = toy_rows["lightning"][0], toy_rows["native"][0]
    assert _names_and_steps(nat) == _names_and_steps(lit)
    names = {n for _, _, m in lit for n in m}
    assert {"train/loss_step", "train/lr", "val/loss", "val/acc", "train/loss_epoch"} <= names
    assert [s for _, s, _ in lit[:-1]] == sorted(s for _, s, _ in lit[:-1])  # in step order
    for (_, _, a), (_, _, b) in zip(lit, nat, strict=True):
        assert [b[k] for k in sorted(a)] == pytest.approx([a[k] for k in sorted(a)], rel=1e-5, abs=1e-7)
    assert lit[-1] == nat[-1] == (-1, -1, {"closed": 1.0})  # closed once, at the end


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_the_backend_gets_every_row_the_csv_logger_writes(toy_rows, engine):
    rows, run_dir = toy_rows[engine]
    with open(run_dir / "logs" / "metrics.csv") as f:
        written = [
            (
                int(r["epoch"]),
                int(r["step"]),
                sorted(k for k, v in r.items() if v and k not in ("epoch", "step")),
            )
            for r in csv.DictReader(f)
        ]
    assert _names_and_steps(rows[:-1]) == written


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_a_backend_that_is_not_ready_stops_the_fit_before_training(tmp_path, engine):
    def refuse(cfg: Config) -> None:
        raise ConfigError("logging.toy needs a toy server")

    spec = LoggerSpec(key="logging.toy", enabled=lambda cfg: True, writer=_never, check=refuse)
    LOGGERS.register("toy", spec)
    try:
        with pytest.raises(ConfigError, match="logging.toy needs a toy server"):
            tiny_fit(tmp_path / "run", engine)
    finally:
        LOGGERS.unregister("toy")


def test_a_missing_package_names_the_extra_to_install():
    spec = LoggerSpec(
        key="logging.toy", enabled=lambda cfg: True, writer=_never, package="litrain_no_such_module"
    )
    with pytest.raises(
        ConfigError, match=r"^logging.toy needs: pip install 'litrain\[litrain_no_such_module\]'$"
    ):
        spec.ready(Config())


def _never(cfg: Config, log_dir: Path) -> ToyWriter:
    raise AssertionError("a backend that is not ready is never opened")


@pytest.mark.parametrize("name", ["csv", "tensorboard", "wandb"])
def test_a_builtin_backend_names_a_lightning_logger_of_the_lightning_engine(name):
    """The spec's lazy ``lightning`` string resolves, and only into engines/lightning (the
    one package that may import Lightning)."""
    import importlib

    spec = LOGGERS.get(name)
    assert spec.key.startswith("logging.") and spec.lightning is not None
    module, attr = spec.lightning.split(":")
    assert module.startswith("litrain.engines.lightning.")
    assert callable(getattr(importlib.import_module(module), attr))
