"""The ``litrain`` command. Subcommands map onto the Python API one to one.

torch and lightning are imported only once a command runs, so ``litrain --help`` and
``litrain fit --help`` answer at once. User errors end in one message and exit code 2.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

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
    "shard": "write a source's splits as WebDataset tar shards (or LitData) to a dir or s3:// URL",
    "pipeline": "train the stages of CONFIG in order, each from an earlier one's weights (resumable)",
}
EPILOG = "Run 'litrain COMMAND --help' for the flags of each command."


class _Parser(argparse.ArgumentParser):
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


def _top_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    p.add_argument(
        "--activate",
        default=None,
        metavar="PATH",
        help="virtualenv dir or activate script the job sources (default: the virtualenv "
        "litrain runs from; 'none': the job's own PATH); it must be on a shared file system",
    )
    p.add_argument(
        "--workdir",
        default=None,
        metavar="DIR",
        help="directory the job runs in (default: $SLURM_SUBMIT_DIR, where sbatch was run)",
    )
    p.add_argument("--output", default=None, help="script path (default <job-name>.sbatch)")
    p.add_argument("--submit", action="store_true", help="submit with sbatch, print the job id")


def _add_pipeline_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="YAML config(s) with stages:")
    p.add_argument("--overwrite", action="store_true", help="start the pipeline in --run-dir over")
    p.add_argument(
        "--resume",
        default=None,
        choices=["last"],
        help="continue the newest pipeline under runs/<name>/ (a --run-dir is always continued)",
    )


def _pipeline(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    result = api.pipeline(
        list(args.configs) + list(args.config) or None,
        run_dir=args.run_dir,
        resume=args.resume,
        overwrite=args.overwrite,
        quiet=args.quiet,
        **overrides,
    )
    from litrain.launch.environment import is_global_zero

    if is_global_zero():
        _print_pipeline(result.summary, args.quiet)
    if result.preempted:
        from litrain.reliability.preemption import REQUEUE_EXIT_CODE

        return REQUEUE_EXIT_CODE  # saved; rerun the same command to continue
    return 0


def _print_pipeline(summary: dict[str, Any], quiet: bool) -> None:
    if quiet:
        print(summary["run_dir"])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="pipeline")
    for col in ("stage", "status", "monitor", "best", "epochs"):
        table.add_column(col, justify="right" if col in ("best", "epochs") else "left")
    for st in summary["stages"]:
        best = st.get("best_metric")
        best_text = f"{best:.4f}" if isinstance(best, int | float) else ""
        table.add_row(
            st["name"], st["status"], st.get("monitor") or "", best_text, str(st.get("epochs") or "")
        )
    console = Console()
    console.print(table)
    for st in summary["stages"]:
        if st.get("best_checkpoint"):
            console.print(f"{st['name']} best checkpoint: {st['best_checkpoint']}", soft_wrap=True)
    console.print(f"run dir: {summary['run_dir']} (pipeline.json)", soft_wrap=True)


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
        activate=args.activate,
        workdir=args.workdir,
    )
    script = write_script(job, args.output or f"{name}.sbatch")
    print(submit(script) if args.submit else script)
    return 0


def _add_shard_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--output", required=True, metavar="DIR|URL", help="local dir, s3://bucket/prefix or any fsspec URL"
    )
    p.add_argument(
        "--format", default="webdataset", help="webdataset (tar shards) or litdata (LitData's optimize)"
    )
    p.add_argument(
        "--shard-size", type=int, default=None, metavar="N", help="samples per shard (default 10000)"
    )
    p.add_argument(
        "--max-shard-bytes", type=int, default=None, metavar="B", help="start a new shard before this size"
    )
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality when re-encoding (default 95)")
    p.add_argument("--workers", type=int, default=0, help="encoding processes (default 0: this one)")
    p.add_argument(
        "--upload-only",
        action="store_true",
        help="upload the shard dir --data-dir to --output, checked against its index",
    )


def _shard(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import litrain.api as api

    results = api.shard(
        args.config or None,
        output=args.output,
        format=args.format,
        shard_size=args.shard_size,
        max_shard_bytes=args.max_shard_bytes,
        quality=args.quality,
        workers=args.workers,
        upload_only=args.upload_only,
        **overrides,
    )
    for split, r in results.items():
        if not args.quiet:
            kept = len(r.index.shards) - len(r.written)
            print(
                f"{split}: {r.index.total_samples} samples in {len(r.index.shards)} shards ({len(r.written)} written, {kept} kept)"
            )
    print(args.output)
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
    ("samplers", "data.sampler", "SAMPLERS"),
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
    p = _Parser(
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
            "--stage",
            default=None,
            metavar="NAME",
            help="train one stage of the config's stages: in RUN_DIR/NAME",
        )
    if command == "pipeline":
        _add_pipeline_flags(p)
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
    if command == "shard":
        _add_shard_flags(p)
    if command == "predict":
        p.add_argument(
            "--output", default=None, help="CSV path (default run_dir/predictions.csv; fields: .npy)"
        )
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


def _unknown_flag_message(extra: list[str], command: str = "fit") -> str:
    """A close flag of the same section, or where every flag is listed (config.keys)."""
    from litrain.config.keys import unknown_key_hint

    flag = next((e for e in extra if e.startswith("--")), extra[0])
    key = flag.lstrip("-").split("=")[0]
    return f"unknown flag {flag.split('=')[0]}{unknown_key_hint(key, command, flag=True)}"


def _best_epoch(result: Any) -> dict[str, Any] | None:
    """The history.json row of the epoch the best checkpoint was saved at (fit only)."""
    import json
    import math

    summary = getattr(result, "summary", None) or {}
    monitor, best = summary.get("monitor"), summary.get("best_metric")
    history = result.run_dir / "history.json"
    if not monitor or best is None or not history.is_file():
        return None
    rows = [r for r in json.loads(history.read_text()) if isinstance(r.get(monitor), int | float)]
    if not rows:
        return None
    row = min(rows, key=lambda r: abs(r[monitor] - best))
    return row if math.isclose(row[monitor], best, rel_tol=1e-6, abs_tol=1e-9) else None


def _print_metrics(result: Any, quiet: bool, title: str, console: Any = None) -> None:
    from litrain.launch.environment import is_global_zero

    if not is_global_zero():  # one report per run, not one per process
        return
    if quiet:
        print(result.run_dir)
        return
    from rich.console import Console
    from rich.table import Table

    def fmt(v: Any) -> str:
        if not isinstance(v, int | float):
            return ""
        return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"

    best = _best_epoch(result)
    epochs = (getattr(result, "summary", None) or {}).get("epochs")
    table = Table(title=title)
    table.add_column("metric")
    if best is None:
        table.add_column("value", justify="right")
    else:  # which numbers are the last epoch's and which the best checkpoint's
        last = f"last (epoch {epochs - 1})" if isinstance(epochs, int) and epochs > 0 else "last"
        table.add_column(last, justify="right")
        table.add_column(f"best (epoch {best['epoch']})", justify="right")
    for k, v in sorted(result.metrics.items()):
        table.add_row(k, fmt(v), *([] if best is None else [fmt(best.get(k))]))
    console = console or Console()
    console.print(table)
    # paths on one line each, however narrow the terminal (a wrapped path cannot be pasted)
    if result.best_checkpoint:
        console.print(f"best checkpoint: {result.best_checkpoint}", soft_wrap=True)
    if result.output:
        console.print(f"predictions: {result.output}", soft_wrap=True)
    console.print(f"run dir: {result.run_dir}", soft_wrap=True)


# Commands that evaluate a finished run, read from --run-dir unless --ckpt names a file.
_READS_RUN = ("validate", "test", "predict", "export")


def _check_run_dir(command: str, args: argparse.Namespace) -> None:
    """``--run-dir DIR`` of a command that reads a finished run must exist (with --ckpt PATH
    it is only where results go, and may be new)."""
    from litrain.errors import ConfigError

    if command not in _READS_RUN or not args.run_dir or args.ckpt not in ("best", "last"):
        return
    rd = Path(args.run_dir)
    if not rd.exists():
        raise ConfigError(
            f"--run-dir {rd} does not exist: pass the directory of a finished run "
            "(the one `litrain fit --run-dir DIR` wrote), or --ckpt PATH"
        )
    if not rd.is_dir():
        raise ConfigError(f"--run-dir {rd} is a file, not a run directory")


def _check_hardware_early(command: str, args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    """Device and precision errors (no GPU, more devices than the machine has, fp16 on CPU)
    before an engine is imported: Lightning alone takes seconds to load. The config is built
    as the command will build it; where that needs more (a checkpoint's own config), the
    engine checks again."""
    if command not in ("fit", "tune", "validate", "test", "predict"):
        return
    from litrain.config import load_config
    from litrain.core.hardware import check_hardware
    from litrain.errors import ConfigError

    files: list[str | Path] = list(args.config)
    rd = Path(args.run_dir) if args.run_dir else None
    reads_run = command != "fit" or getattr(args, "resume", None)
    if not files and rd is not None and reads_run and (rd / "config.yaml").is_file():
        files = [rd / "config.yaml"]
    try:
        t = load_config(files, overrides).trainer
    except ConfigError:
        return  # the command itself reports it, with the config it really uses
    check_hardware(t.accelerator, t.devices, t.precision)


def _print_found(result: Any, quiet: bool, started: float, tuned: bool = False) -> None:
    """What fit/tune computed beyond the metrics: the lr the LR finder chose (``--lr auto``,
    ``litrain tune lr``) with its plot, and the profiler's report. Files this command wrote
    (not older than ``started``) only, so a resumed run does not repeat an old finding."""
    from litrain.launch.environment import is_global_zero

    if quiet or not is_global_zero():
        return
    rd = Path(result.run_dir)
    new = started - 1.0  # coarse file-system clocks

    def fresh(p: Path) -> bool:
        return p.is_file() and p.stat().st_mtime >= new

    plot = rd / "plots" / "lr_finder.png"
    if fresh(plot):
        lr = result.config.optim.lr
        print(f"learning rate: {lr:.4g} (chosen by the LR finder; plot: {plot})")
        if tuned:
            print(f"config with this lr: {rd / 'config.yaml'} (litrain fit --config {rd / 'config.yaml'})")
    prof = rd / "profiler"
    reports = sorted(p for p in prof.rglob("*") if fresh(p)) if prof.is_dir() else []
    if len(reports) == 1:
        print(f"profiler report: {reports[0]}")
    elif reports:
        names = ", ".join(p.name for p in reports[:3]) + (", ..." if len(reports) > 3 else "")
        print(f"profiler reports: {prof} ({names})")


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
        raise ConfigError(_unknown_flag_message(extra, command))
    overrides = _overrides(args)
    _check_run_dir(command, args)
    _check_hardware_early(command, args, overrides)  # before an engine imports Lightning
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
    if command == "shard":
        return _shard(args, overrides)
    if command == "pipeline":
        return _pipeline(args, overrides)
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
    started = time.time()
    if command == "fit":
        result = api.fit(
            source, resume=args.resume, overwrite=args.overwrite, stage=args.stage, **common, **overrides
        )
        if result.summary.get("preempted"):
            from litrain.reliability.preemption import REQUEUE_EXIT_CODE

            return REQUEUE_EXIT_CODE  # saved; a scheduler may requeue with --resume last
        _print_metrics(result, args.quiet, "final metrics")
        _print_found(result, args.quiet, started)
    elif command == "tune":
        result = api.tune_lr(source, overwrite=args.overwrite, **common, **overrides)
        _print_metrics(result, args.quiet, "suggested learning rate")
        _print_found(result, args.quiet, started, tuned=True)
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


def _quiet_library_noise(quiet: bool = False) -> None:
    """Library warnings a user cannot act on (and with --quiet all of them) are filtered in
    one place, litrain.core.noise."""
    from litrain.core.noise import filter_noise

    filter_noise(quiet)


def main(argv: list[str] | None = None) -> None:
    from litrain.errors import LitrainError
    from litrain.reliability.rank_watch import RankDied

    args = list(sys.argv[1:] if argv is None else argv)
    _quiet_library_noise(quiet="--quiet" in args)  # before the first import that warns
    try:
        code = run(args)
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
