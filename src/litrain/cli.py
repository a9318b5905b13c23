"""The ``litrain`` command. Subcommands map onto the Python API one to one.

torch and lightning are imported only once a command runs, so ``litrain --help`` and
``litrain fit --help`` answer at once. User errors end in one message and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

COMMANDS = {
    "fit": "train a model (the default: digits, an MLP, offline)",
    "validate": "evaluate a checkpoint on the validation split",
    "test": "evaluate a checkpoint on the test split (+ confusion matrix)",
    "predict": "write predictions.csv with per-class probabilities",
    "tune": "tune lr: run the learning-rate finder",
    "config": "config show | config validate FILE",
    "export": "export a checkpoint's weights (--format safetensors)",
    "convert": "convert CKPT --to native|lightning|safetensors OUT (either engine resumes)",
    "slurm": "write (and --submit) an sbatch script that trains CONFIG with requeue",
}
EPILOG = "Run 'litrain COMMAND --help' for the flags of each command."


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="litrain",
        description="Train classifiers with PyTorch Lightning from one typed config.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _add_config_flags(p: argparse.ArgumentParser) -> None:
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


def _add_slurm_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML config(s) to train")
    p.add_argument("--nodes", type=int, default=1, help="nodes (default 1)")
    p.add_argument("--gpus-per-node", type=int, default=0, help="GPUs per node: one task each")
    p.add_argument("--tasks-per-node", type=int, default=None, help="CPU jobs: processes per node")
    p.add_argument("--cpus-per-task", type=int, default=None, help="CPU cores per task")
    p.add_argument("--time", default=None, help="time limit, e.g. 04:00:00")
    p.add_argument("--partition", default=None, help="SLURM partition")
    p.add_argument("--account", default=None, help="SLURM account")
    p.add_argument("--job-name", default=None, help="job name (default run.name)")
    p.add_argument(
        "--signal-lead",
        type=int,
        default=90,
        metavar="SECONDS",
        help="SIGUSR1 this long before the time limit: checkpoint and requeue",
    )
    p.add_argument(
        "--sbatch",
        action="append",
        default=[],
        metavar="FLAG",
        help="extra #SBATCH line, e.g. --sbatch=--qos=high",
    )
    p.add_argument("--output", default=None, help="script path (default <job-name>.sbatch)")
    p.add_argument("--submit", action="store_true", help="submit with sbatch, print the job id")


def _slurm(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from litrain.config import load_config
    from litrain.launch.slurm import SlurmJob, submit, write_script

    name = args.job_name or load_config(args.configs, overrides).run.name
    job = SlurmJob(
        configs=args.configs,
        nodes=args.nodes,
        gpus_per_node=args.gpus_per_node,
        tasks_per_node=args.tasks_per_node,
        cpus_per_task=args.cpus_per_task,
        time=args.time,
        partition=args.partition,
        account=args.account,
        job_name=name,
        run_dir=args.run_dir,
        signal_lead_s=args.signal_lead,
        overrides=overrides,
        extra_sbatch=args.sbatch,
    )
    script = write_script(job, args.output or f"{name}.sbatch")
    print(submit(script) if args.submit else script)
    return 0


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
    ("samplers", "", "SAMPLERS"),
    ("strategies", "trainer.strategy", "STRATEGIES"),
    ("loggers", "logging.*", "LOGGERS"),
    ("engines", "run.engine", "ENGINES"),
]


def _names_epilog() -> str:
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


def _command_parser(command: str) -> argparse.ArgumentParser:
    # allow_abbrev=False: a mistyped key (--trainer.max_epoch) is an error, not a prefix match.
    p = argparse.ArgumentParser(
        prog=f"litrain {command}",
        description=COMMANDS[command],
        allow_abbrev=False,
        epilog=_names_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keep the epilog's lines
    )
    if command == "config":
        p.add_argument("action", choices=["show", "validate"])
        p.add_argument("files", nargs="*", help="validate: the YAML file(s) to check")
    if command == "tune":
        p.add_argument("what", choices=["lr"], help="what to tune")
    if command == "slurm":
        _add_slurm_flags(p)
    p.add_argument("--run-dir", default=None, help="output directory (default runs/<name>/<time>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or tables: for scripts")
    if command in ("fit", "tune"):
        p.add_argument("--overwrite", action="store_true", help="replace a run already in --run-dir")
    if command == "fit":
        p.add_argument(
            "--resume",
            "--resume-from-checkpoint",
            dest="resume",
            default=None,
            metavar="last|PATH",
            help="resume from the run's newest checkpoint or a file",
        )
    if command in ("validate", "test", "predict"):
        p.add_argument(
            "--ckpt",
            default="best",
            metavar="best|last|PATH",
            help="checkpoint to evaluate (default: the run's best)",
        )
    if command == "export":
        p.add_argument(
            "--format", default="safetensors", choices=["safetensors"], help="weights only, no pickle"
        )
        p.add_argument(
            "--ckpt",
            default="best",
            metavar="best|last|PATH",
            help="checkpoint to export (default: the run's best)",
        )
        p.add_argument("--output", default=None, help="file (default: beside the checkpoint)")
    if command == "convert":
        p.add_argument("ckpt", metavar="CKPT", help="checkpoint: Lightning, native or .safetensors")
        p.add_argument(
            "--to", default=None, choices=["native", "lightning", "safetensors"], help="format to write"
        )
        p.add_argument(
            "--consolidate",
            action="store_true",
            help="merge a sharded (FSDP, .distcp) checkpoint directory into one file",
        )
        p.add_argument("out", metavar="OUT", help="file to write")
    if command == "predict":
        p.add_argument("--output", default=None, help="CSV path (default run_dir/predictions.csv)")
        p.add_argument("--split", default="test", choices=["test", "val"], help="split to predict")
    _add_config_flags(p)
    return p


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    from litrain.config import parse_value
    from litrain.errors import ConfigError

    out: dict[str, Any] = {}
    for key, value in vars(args).items():
        if "." in key:
            out[key] = parse_value(value) if isinstance(value, str) else value
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"--set {item!r}: write KEY=VALUE, e.g. --set trainer.max_epochs=3")
        out[key.strip()] = parse_value(value)
    return out


def _unknown_flag_message(extra: list[str]) -> str:
    from litrain.config import ALIASES, suggest

    flag = next((e for e in extra if e.startswith("--")), extra[0])
    key = flag.lstrip("-").split("=")[0]
    hint = suggest(key) if "." in key else ""
    if not hint:
        import difflib

        close = difflib.get_close_matches(key, list(ALIASES), n=1)
        hint = f" (did you mean --{close[0]}?)" if close else ""
    return f"unknown flag {flag}{hint}"


def _print_metrics(result: Any, quiet: bool, title: str) -> None:
    from litrain.launch.environment import is_global_zero

    if not is_global_zero():  # one report per run, not one per process
        return
    if quiet:
        print(result.run_dir)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in sorted(result.metrics.items()):
        table.add_row(k, f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}")
    console = Console()
    console.print(table)
    if result.best_checkpoint:
        console.print(f"checkpoint: {result.best_checkpoint}")
    if result.output:
        console.print(f"predictions: {result.output}")
    console.print(f"run dir: {result.run_dir}")


def run(argv: list[str]) -> int:
    top = _top_parser()
    if not argv or argv[0] in ("-h", "--help"):
        top.print_help()
        return 0
    if argv[0] == "--version":
        from litrain import __version__

        print(__version__)
        return 0
    command = argv[0]
    if command not in COMMANDS:
        top.error(f"unknown command {command!r}; choose from {', '.join(COMMANDS)}")
    parser = _command_parser(command)
    args, extra = parser.parse_known_args(argv[1:])
    from litrain.errors import ConfigError

    if extra:
        raise ConfigError(_unknown_flag_message(extra))
    overrides = _overrides(args)
    import litrain.api as api
    from litrain.config import load_config

    if command == "config":
        if args.action == "validate":
            if not args.files:
                raise ConfigError("config validate needs a FILE")
            load_config(args.files, overrides)
            print(f"ok: {', '.join(args.files)}")
        else:
            import yaml

            print(yaml.safe_dump(load_config(args.config + args.files, overrides).to_dict(), sort_keys=False))
        return 0
    if command == "export":
        from litrain.export.safetensors import export_safetensors

        print(export_safetensors(args.ckpt, args.run_dir, args.output))
        return 0
    if command == "slurm":
        return _slurm(args, overrides)
    if command == "convert" and args.consolidate:
        from litrain.checkpoint.fsdp import consolidate  # no Lightning import

        print(consolidate(args.ckpt, args.out))
        return 0
    if command == "convert":
        from litrain.checkpoint.convert import convert

        if args.to is None:
            raise ConfigError("convert needs --to native|lightning|safetensors (or --consolidate)")
        print(convert(args.ckpt, args.to, args.out))
        return 0
    common = {"run_dir": args.run_dir, "quiet": args.quiet}
    source = args.config or None
    if command == "fit":
        result = api.fit(source, resume=args.resume, overwrite=args.overwrite, **common, **overrides)
        if result.summary.get("preempted"):
            from litrain.reliability.preemption import REQUEUE_EXIT_CODE

            return REQUEUE_EXIT_CODE  # saved; a scheduler may requeue with --resume last
        _print_metrics(result, args.quiet, "final metrics")
    elif command == "tune":
        result = api.tune_lr(source, overwrite=args.overwrite, **common, **overrides)
        _print_metrics(result, args.quiet, "suggested learning rate")
    elif command in ("validate", "test"):
        fn = api.validate if command == "validate" else api.test
        result = fn(source, checkpoint=args.ckpt, **common, **overrides)
        _print_metrics(result, args.quiet, f"{command} metrics")
    else:
        result = api.predict(
            source, checkpoint=args.ckpt, output=args.output, split=args.split, **common, **overrides
        )
        _print_metrics(result, args.quiet, "predict")
    return 0


def _clean_message(exc: BaseException) -> str:
    """A DataLoader worker re-raises our errors with its traceback inside the message;
    keep the user's part (the last line)."""
    text = str(exc)
    if "Original Traceback" in text:
        last = text.strip().splitlines()[-1]
        text = last.split(": ", 1)[1] if ": " in last else last
    return text


def _quiet_library_noise() -> None:
    """Lightning's advert for its cloud logger and a torch-internal deprecation warning say
    nothing about the user's run."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=".*treespec.*")
    # Under DDP Lightning advises sync_dist for every epoch-level log; litrain's metrics are
    # torchmetrics (synced in compute) and val/test loss already syncs, so the advice misleads.
    warnings.filterwarnings("ignore", message=".*sync_dist=True.*")
    # On a machine with SLURM installed Lightning warns about every run not started by srun;
    # litrain sbatch scripts use srun, and a local run is not a mistake.
    warnings.filterwarnings("ignore", message=".*`srun` command is available.*")

    class _NoTips(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "Tip:" not in record.getMessage()

    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch"):
        logging.getLogger(name).addFilter(_NoTips())


def main(argv: list[str] | None = None) -> None:
    from litrain.errors import LitrainError
    from litrain.reliability.rank_watch import RankDied

    _quiet_library_noise()
    try:
        code = run(list(sys.argv[1:] if argv is None else argv))
    except LitrainError as exc:
        print(f"litrain: error: {_clean_message(exc)}", file=sys.stderr)
        code = exc.exit_code
    except RankDied as exc:  # its one line, naming the rank, is already on stderr
        code = exc.exit_code
    except KeyboardInterrupt:
        print("litrain: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
