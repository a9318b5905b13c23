"""What one pipeline stage needs from another: whether a stage's run finished, the best or
last checkpoint it recorded, and loading that checkpoint's model weights into a new model
before it trains (``init_from``). Engine-neutral: both checkpoint formats load here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from litrain.checkpoint.convert import bare_state_dict, is_native
from litrain.checkpoint.formats.keys import EMA_STATE_KEY, eval_state_dict
from litrain.checkpoint.load import load_checkpoint, saved_ema_config
from litrain.core.noise import note
from litrain.errors import CheckpointError


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
    path = Path(recorded)
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


def evaluated_on_ema(ckpt: dict[str, Any]) -> bool:
    """Whether the run that wrote ``ckpt`` validated on its EMA weights (``trainer.ema`` with
    ``use_for_eval``, the default) and the checkpoint holds them: those weights are what its
    best checkpoint was ranked on, so they are the ones a later stage starts from."""
    saved = saved_ema_config(ckpt)
    on = bool(saved.get("enabled")) and saved.get("use_for_eval", True)
    return on and ckpt.get(EMA_STATE_KEY) is not None


def load_model_weights(model: nn.Module, path: Path, strict: bool, what: str, quiet: bool) -> None:
    """Copy the model weights of checkpoint ``path`` (native or Lightning) into ``model``.
    strict: every tensor must fit, else a CheckpointError listing what does not; not strict:
    the tensors that fit (same name and shape) are loaded and the rest named in one line."""
    ckpt = load_checkpoint(path)
    ema = evaluated_on_ema(ckpt)
    weights = bare_state_dict(eval_state_dict(ckpt, ema), strip_module=not is_native(ckpt))
    if ema:
        what += ", EMA weights"
    ours = model.state_dict()
    missing = sorted(set(ours) - set(weights))
    unexpected = sorted(set(weights) - set(ours))
    shapes = sorted(
        k
        for k in set(ours) & set(weights)
        if getattr(weights[k], "shape", None) != getattr(ours[k], "shape", None)
    )
    report = "; ".join(
        f"{label}: {', '.join(keys[:8])}" + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("other shape", shapes))
        if keys
    )
    if strict and report:
        raise CheckpointError(
            f"{what}: {path} does not fit this stage's model ({report}): set init_from.strict: "
            "false to load only the tensors that fit"
        )
    fit = {k: v for k, v in weights.items() if k in ours and k not in shapes}
    model.load_state_dict(fit, strict=False)
    tail = f"; {report}" if report else ""
    note(f"{what}: loaded {len(fit)} of {len(ours)} tensors from {path}{tail}", quiet)
