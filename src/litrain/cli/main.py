"""``litrain``'s entry point: parse, check what needs no torch, run the command, and turn a
user error into one line and exit code 2."""

from __future__ import annotations

import sys

from litrain.cli.table import COMMANDS


def run(argv: list[str]) -> int:
    from litrain.cli.parser import command_parser, overrides, top_parser, unknown_flag_message
    from litrain.cli.table import command

    top = top_parser()
    if not argv or argv[0] in ("-h", "--help"):
        top.print_help()
        return 0
    if argv[0] == "--version":
        from litrain import __version__

        print(__version__)
        return 0
    name = argv[0]
    if name not in COMMANDS:
        top.error(f"unknown command {name!r}; choose from {', '.join(COMMANDS)}")
    cmd = command(name)
    parser = command_parser(cmd)
    args, extra = parser.parse_known_args(argv[1:])
    if extra:
        from litrain.errors import ConfigError

        raise ConfigError(unknown_flag_message(extra, cmd, parser))
    flags = overrides(args) if cmd.reads_config else {}
    if cmd.check is not None:
        cmd.check(args, flags)  # before the command imports torch and Lightning
    return cmd.run(args, flags)


def _clean_message(exc: BaseException) -> str:
    """A DataLoader worker re-raises our errors with its traceback inside the message;
    keep the user's part (the last line)."""
    from litrain.core.noise import strip_ansi

    text = strip_ansi(str(exc))  # a library's coloured text: escapes are noise in a log
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
    except KeyboardInterrupt as exc:  # a fit's says where it stopped and how to go on
        print(f"litrain: {exc or 'interrupted'}", file=sys.stderr)
        code = 130
    sys.exit(code)
