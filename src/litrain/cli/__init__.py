"""The ``litrain`` command: a table of commands, one module per user action.

Each module of ``litrain.cli.commands`` declares a :class:`~litrain.cli.table.Command`: its
name, help, arguments, the checks that need no torch, and its run function. ``litrain
--help`` lists the table without importing torch; a command imports torch and Lightning
only once its cheap checks (``litrain.cli.preflight``) have passed, so a wrong flag, file,
stage or model name is reported in the time Python takes to start. User errors end in one
message and exit code 2.
"""

from litrain.cli.main import main, run

__all__ = ["main", "run"]
