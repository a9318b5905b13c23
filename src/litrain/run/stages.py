"""What one pipeline stage needs from another: whether a stage's run finished, the best or
last checkpoint it recorded, and loading that checkpoint's model weights into a new model
before it trains (``init_from``). Engine-neutral: both checkpoint formats load here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from litrain.checkpoint.load import load_checkpoint
from litrain.checkpoint.weights import LoadReport, load_into, weights_for
from litrain.core.noise import note
from litrain.errors import CheckpointError
from litrain.run.rundir import from_stored


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    """A run's summary.json, or None when it has none (or an unreadable one)."""
    try:
        data = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def finished(run_dir: Path) -> bool:
    """The run in ``run_dir`` trained to its end: the lifecycle writes summary.json (with its
    stop_reason) only then; a preempted or killed run has none."""
    summary = read_summary(run_dir)
    return summary is not None and "stop_reason" in summary and not summary.get("preempted")


def stage_checkpoint(stage: str, which: str, stage_dir: Path, for_stage: str) -> Path:
    """The ``best`` or ``last`` checkpoint the finished stage ``stage`` recorded in its
    summary.json; a CheckpointError naming the stage and where it looked otherwise."""
    summary = read_summary(stage_dir) if finished(stage_dir) else None
    if summary is None:
        raise CheckpointError(
            f"stage {for_stage} starts from stage {stage}, which has not finished in {stage_dir} "
            f"(no summary.json there): run `litrain fit --stage {stage}` with the same --run-dir "
            "first, or `litrain pipeline`"
        )
    recorded = summary.get(f"{which}_checkpoint")
    if not recorded:
        other = "last" if which == "best" else "best"
        raise CheckpointError(
            f"stage {for_stage} starts from stage {stage}'s {which} checkpoint, but "
            f"{stage_dir / 'summary.json'} records none: set init_from.checkpoint: {other}"
        )
    path = from_stored(stage_dir, recorded)  # relative to the stage's run dir
    if not path.is_file():
        raise CheckpointError(
            f"stage {for_stage} starts from stage {stage}'s {which} checkpoint {path}, which "
            "does not exist: rerun that stage"
        )
    return path


@dataclass(frozen=True)
class InitWeights:
    """``init_from``, resolved: the checkpoint file whose model weights a stage starts from."""

    stage: str  # the stage the weights come from
    which: str  # best | last
    path: Path
    strict: bool

    def apply(self, model: nn.Module, quiet: bool = False) -> None:
        load_model_weights(model, self.path, self.strict, f"init_from {self.stage} ({self.which})", quiet)


def load_model_weights(model: nn.Module, path: Path, strict: bool, what: str, quiet: bool) -> None:
    """Copy the model weights of checkpoint ``path`` (native or Lightning; the EMA weights
    when its run evaluated on them, ``weights_for(purpose="init")``) into ``model``.
    strict: every tensor must fit, else a CheckpointError listing what does not; not strict:
    the tensors that fit (same name and shape) are loaded and the rest named in one line."""
    weights = weights_for(load_checkpoint(path), "init")
    if weights.ema:
        what += ", EMA weights"

    def refusal(report: LoadReport) -> str:
        return (
            f"{what}: {path} does not fit this stage's model ({report}): set init_from.strict: "
            "false to load only the tensors that fit"
        )

    report = load_into(model, weights.state, strict, path, refusal)
    tail = f"; {report}" if not report.fits else ""
    note(f"{what}: loaded {report.loaded} of {report.total} tensors from {path}{tail}", quiet)
