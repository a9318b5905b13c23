"""argparse for the command table: the top-level parser, a command's parser (its own
arguments, plus the config flags where it reads a config), and what the flags mean as
config overrides."""

from __future__ import annotations

import argparse
import re
from typing import Any, NoReturn

from litrain.cli.table import COMMANDS, Command, command

EPILOG = "Run 'litrain COMMAND --help' for the flags of each command."


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (a ConfigError: exit 2) that says how to list
    the choices, not the whole usage text above it."""

    def error(self, message: str) -> NoReturn:
        from litrain.errors import ConfigError

        m = re.fullmatch(r"argument (\S+): invalid choice: (.+) \(choose from (.+)\)", message)
        if m:  # a flag is named (--to x); a positional's internal name (what) is not
            name, given, choices = m.groups()
            flag = f"{name.split('/')[0]} " if name.startswith("-") else ""
            message = f"{flag}{given} is not a choice; choose from {choices}"
            hint = f"`{self.prog} --help` lists the choices"
        else:
            hint = f"see `{self.prog} --help`"
        prefix = "" if self.prog == "litrain" else f"{self.prog}: "  # main adds "litrain: error:"
        raise ConfigError(f"{prefix}{message} ({hint})")


def top_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="litrain",
        description="Train classifiers with PyTorch Lightning from one typed config.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        sub.add_parser(name, help=command(name).help, add_help=False)
    return parser


def add_config_flags(p: argparse.ArgumentParser) -> None:
    from litrain.config import ALIASES, SWITCH_ALIASES, leaf_fields

    p.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="FILE",
        help="YAML config; repeat to merge left to right",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set any key, e.g. --set trainer.max_epochs=3",
    )
    short = p.add_argument_group("short flags (aliases of config keys)")
    for alias, key in ALIASES.items():
        kw: dict[str, Any] = {"dest": key, "default": argparse.SUPPRESS, "help": f"= --{key}"}
        if alias in SWITCH_ALIASES:
            kw.update(nargs="?", const="true")
        short.add_argument(f"--{alias}", **kw)
    groups: dict[str, argparse._ArgumentGroup] = {}
    for key, field in leaf_fields():
        section = key.rsplit(".", 1)[0]
        group = groups.setdefault(section, p.add_argument_group(f"{section} settings"))
        default = field.default if field.default is not None else "null"
        kw = {
            "dest": key,
            "default": argparse.SUPPRESS,
            "metavar": "V",
            "help": f"{field.description} [default: {default}]".replace("%", "%%"),
        }
        if field.annotation is bool:
            kw.update(nargs="?", const="true")
        group.add_argument(f"--{key}", **kw)


# The registries whose names a config value picks, listed under `litrain COMMAND --help`:
# (heading, config key, registry name in litrain.registry).
VOCABULARIES = [
    ("data sources", "data.source", "DATASETS"),
    ("models (built-in)", "model.name", "MODELS"),
    ("tasks", "task.type", "TASKS"),
    ("losses", "task.loss", "LOSSES"),
    ("optimizers", "optim.name", "OPTIMIZERS"),
    ("schedulers", "optim.scheduler.name", "SCHEDULERS"),
    ("augment presets", "data.augment", "AUGMENTS"),
    ("samplers", "data.sampler", "SAMPLERS"),
    ("strategies", "trainer.strategy", "STRATEGIES"),
    ("loggers", "logging.*", "LOGGERS"),
    ("engines", "run.engine", "ENGINES"),
]


def names_epilog() -> str:
    """The registered names, one vocabulary a line. The registries import only their light
    provider packages, never torch."""
    import textwrap

    from litrain import registry

    lines = ["registered names:"]
    for heading, key, attr in VOCABULARIES:
        label = f"{heading} ({key})" if key else heading
        names = ", ".join(getattr(registry, attr).names())
        if attr == "MODELS":
            names += "; or timm:<name>, torchvision:<name>"
        lines.append(
            textwrap.fill(f"{label}: {names}", width=100, initial_indent="  ", subsequent_indent="    ")
        )
    return "\n".join(lines)


def command_parser(cmd: Command) -> argparse.ArgumentParser:
    # allow_abbrev=False: a mistyped key (--trainer.max_epoch) is an error, not a prefix match.
    p = Parser(
        prog=f"litrain {cmd.name}",
        description=cmd.help,
        allow_abbrev=False,
        epilog=names_epilog() if cmd.reads_config else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keep the epilog's lines
    )
    cmd.arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar or tables: for scripts")
    if cmd.reads_config:
        add_config_flags(p)
    return p


def add_run_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run-dir", default=None, help="output directory (default runs/<name>/<time>)")


def add_ckpt(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--ckpt",
        default="best",
        metavar="best|last|PATH",
        help=f"checkpoint to {what} (default: the run's best)",
    )


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys the flags set (``--lr 0.1``, ``--trainer.max_epochs 3``, ``--set
    k=v``), values read as YAML would read them."""
    from litrain.config import parse_value
    from litrain.errors import ConfigError

    out: dict[str, Any] = {}
    for key, value in vars(args).items():
        if "." in key:
            out[key] = parse_value(value) if isinstance(value, str) else value
    for item in getattr(args, "set", []):
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"--set {item!r}: write KEY=VALUE, e.g. --set trainer.max_epochs=3")
        out[key.strip()] = parse_value(value)
    return out


def unknown_flag_message(extra: list[str], cmd: Command, parser: argparse.ArgumentParser) -> str:
    """A close flag (of the same config section), or where every flag is listed."""
    flag = next((e for e in extra if e.startswith("--")), extra[0])
    name = flag.split("=")[0]
    if cmd.reads_config:
        from litrain.config.keys import unknown_key_hint

        key = flag.lstrip("-").split("=")[0]
        return f"unknown flag {name}{unknown_key_hint(key, cmd.name, flag=True)}"
    import difflib

    close = difflib.get_close_matches(name, list(parser._option_string_actions), n=1, cutoff=0.8)
    hint = f" (did you mean {close[0]}?)" if close else f"; `litrain {cmd.name} --help` lists every flag"
    return f"unknown flag {name}{hint}"
