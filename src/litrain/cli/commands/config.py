"""``litrain config show | validate FILE``: the merged config, or whether files are valid.
Needs no torch: the config package never imports it."""

from __future__ import annotations

import argparse
from typing import Any

from litrain.cli import preflight
from litrain.cli.table import Command


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["show", "validate"])
    p.add_argument("files", nargs="*", help="validate: the YAML file(s) to check")


def run(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from litrain.errors import ConfigError

    if args.action == "validate":
        if not args.files:
            raise ConfigError("config validate needs a FILE")
        cfg = preflight.load(args.files, overrides)
        for scfg in [cfg] + [preflight.stage(cfg, s.name, overrides) for s in cfg.stages]:
            preflight.parts(scfg)  # a model name no library has is not a valid config
        print(f"ok: {', '.join(args.files)}")
        return 0
    import yaml

    print(yaml.safe_dump(preflight.load(args.config + args.files, overrides).to_dict(), sort_keys=False))
    return 0


COMMAND = Command(
    name="config",
    help="config show | config validate FILE",
    arguments=arguments,
    run=run,
)
