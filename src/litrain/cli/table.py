"""The command table: what each ``litrain COMMAND`` is, and where its module lives.

A command module holds one ``COMMAND``; it is imported when the command runs or when
``litrain --help`` lists the help lines (command modules import nothing heavy at the top)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Args = argparse.Namespace
Overrides = dict[str, Any]


@dataclass(frozen=True)
class Command:
    """One user action. ``reads_config``: it takes ``--config``/``--set`` and a flag per config
    key (and lists the registered names under ``--help``). ``check`` runs before torch is
    imported: what the flags and files alone can tell. ``run`` returns the exit code."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Args, Overrides], int]
    reads_config: bool = True
    check: Callable[[Args, Overrides], None] | None = None


# In the order `litrain --help` lists them.
COMMANDS = (
    "fit",
    "validate",
    "test",
    "predict",
    "calibrate",
    "ensemble",
    "tune",
    "sweep",
    "config",
    "export",
    "report",
    "convert",
    "slurm",
    "shard",
    "pipeline",
    "runs",
)


def command(name: str) -> Command:
    cmd: Command = importlib.import_module(f"litrain.cli.commands.{name}").COMMAND
    return cmd
