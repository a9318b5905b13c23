"""The one place that decides which library warnings a litrain user sees.

Normal mode keeps only warnings that ask the user to act; the ones below say nothing a user
can act on in a litrain run (litrain already handles what they point at). ``--quiet`` means
the final table and errors only: every warning and Lightning's info lines go.

Called by the CLI when it starts and by both engines when they set up (an API caller's
``quiet=True`` silences warnings for the rest of the process, and the libraries' log lines
until a run that is not quiet); installing twice adds nothing.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from typing import Any

# (message regex, why it is not the user's to act on)
NOT_ACTIONABLE: tuple[tuple[str, str], ...] = (
    (r".*'set_vital' is deprecated", "torchdata's StatefulDataLoader calls a deprecated torch API"),
    (r".*treespec", "a torch-internal deprecation inside Lightning"),
    # litrain's metrics are torchmetrics (synced in compute) and val/test loss syncs already
    (r".*sync_dist=True", "Lightning's DDP advice for epoch-level logs"),
    # litrain's sbatch scripts use srun; a local run on a SLURM machine is no mistake
    (r".*`srun` command is available", "Lightning's SLURM hint"),
    # litrain's run-dir rules decide what may go into a directory (a requeue resumes in place)
    (r".*Checkpoint directory .* exists and is not empty", "a requeued run resumes in its dir"),
    (r".*Experiment logs directory .* exists and is not empty", "a resumed run appends its log"),
    # a class absent from a small validation split: the macro average leaves it out, as it says
    (r".*Average precision score for one or more classes was `nan`", "torchmetrics' AP/AUROC"),
    (r".*No (positive|negative) samples (found )?in target", "torchmetrics' curves"),
    # no validation data is what --val-split 0 asked for; litrain says what that means for checkpoints
    (r".*Total length of .* across ranks is zero", "Lightning's empty-loader notice"),
    # the finiteness check's one-element loss beside FSDP's DTensor norms, every step
    (r".*non-scalar tensor with numel=1 and ndim!=0", "DTensor, from the non-finite check"),
    # resuming into another run dir: litrain keeps its checkpoints in the dir it was given
    (r".*The dirpath has changed from", "Lightning's ModelCheckpoint on resume into a new dir"),
    # litrain's shard reader splits its batches among workers itself (data/shards/read.py)
    (r".*Your `IterableDataset` has `__len__` defined", "Lightning's worker-duplication hint"),
    # only the summary's size estimate: litrain's model table does not use it
    (r".*is not supported by the model summary", "Lightning's model summary under bf16/fp16"),
)

# Library log lines (logger name, message part) that are not about the user's run
NOT_ACTIONABLE_LOGS: tuple[tuple[str, str], ...] = (
    # litrain writes and reads its checkpoints itself (weights_only=True where it loads)
    ("lightning.pytorch.trainer.connectors.checkpoint_connector", "`weights_only` was not set"),
    # torch.compile on a CPU-only machine that has a CUDA toolkit installed
    ("torch.utils.cpp_extension", "No CUDA runtime is found"),
)

_LIBRARY_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning", "torch._dynamo", "torch._inductor")


# Lightning's log lines that are not about the user's run: its 'Tip:' adverts (its cloud
# logger, litlogger), and its note that litrain brought its own model summary
_NOT_ABOUT_THE_RUN = ("Tip:", "Trainer already configured with model summary callbacks")


class _NoTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(part in message for part in _NOT_ABOUT_THE_RUN)


_TIPS = _NoTips()  # one instance: logging's addFilter skips one it already holds


class _Drop(logging.Filter):
    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part

    def filter(self, record: logging.LogRecord) -> bool:
        return self.part not in record.getMessage()


_DROPS = {name: _Drop(part) for name, part in NOT_ACTIONABLE_LOGS}


class LitrainNotice(UserWarning):
    """A notice of litrain's own, shown as one ``litrain: ...`` line (not with a source path)."""


_LITRAIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_shown_by_python = warnings.showwarning


def _show(
    message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    """litrain's own warnings as litrain lines; the libraries' as Python shows them."""
    if issubclass(category, LitrainNotice) or os.path.abspath(filename).startswith(_LITRAIN_DIR + os.sep):
        note(strip_ansi(str(message)))
        return
    _shown_by_python(message, category, filename, lineno, file, line)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour/cursor escapes (a library's coloured error text)."""
    return _ANSI.sub("", text)


_SILENCED: dict[str, int] = {}  # library logger -> its level before a quiet run raised it


def filter_noise(quiet: bool = False) -> None:
    """Install the filters: always the not-actionable list; with ``quiet`` every warning and
    the libraries' log lines below ERROR."""
    # warnings.filterwarnings moves an identical filter to the front instead of adding one
    for pattern, _why in NOT_ACTIONABLE:
        warnings.filterwarnings("ignore", message=pattern)
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).addFilter(_TIPS)
    for name, drop in _DROPS.items():  # a logger's filter sees the records logged on it
        logging.getLogger(name).addFilter(drop)
    if warnings.showwarning is not _show:
        warnings.showwarning = _show
    if quiet:
        warnings.simplefilter("ignore")
        os.environ.setdefault("WANDB_SILENT", "true")  # wandb's own console lines (both engines)
        for name in _LIBRARY_LOGGERS:
            _SILENCED.setdefault(name, logging.getLogger(name).level)
            logging.getLogger(name).setLevel(logging.ERROR)
    else:  # a later run in the same process that is not quiet shows its log lines again
        for name, level in _SILENCED.items():
            logging.getLogger(name).setLevel(level)
        _SILENCED.clear()


def note(line: str, quiet: bool = False) -> None:
    """One ``litrain: ...`` line on stderr that tells the user what litrain decided, from
    rank 0 only (once per run, not once per process); nothing with ``--quiet``."""
    import sys

    from litrain.core.dist import rank_and_world

    if quiet or rank_and_world()[0] != 0:
        return
    print(f"litrain: {line}", file=sys.stderr, flush=True)
