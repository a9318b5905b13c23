"""What every export format starts from: the run opened for export (the model the card
describes, holding the eval weights the run declares: EMA or raw), the example input the
card's shape gives, the module to trace (one named output per head of a multi-task model)
and the metadata every artefact carries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from litrain.core.versions import __version__
from litrain.errors import ConfigError
from litrain.trained.run import TrainedRun, run_dir_of

INPUT_NAME = "input"
EXAMPLE_BATCH = 2  # traced with 2 samples: a batch of 1 would let the exporter fix the axis


class NamedHeads(nn.Module):
    """A multi-task model's one output split into one output per head (its columns, or
    channels for a field head), in the task's head order; columns past the heads (a loss
    weighting's extra outputs) are not exported."""

    def __init__(self, model: nn.Module, spans: list[tuple[int, int]]) -> None:
        super().__init__()
        self.model = model
        self.spans = spans

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        out = self.model(x)
        return tuple(out[:, a:b] for a, b in self.spans)


@dataclass
class ExportSource:
    """The opened run and what the formats need of it."""

    run: TrainedRun
    checkpoint: Path
    run_dir: Path
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def card(self) -> dict[str, Any]:
        assert self.run.card is not None
        return self.run.card

    @property
    def heads(self) -> dict[str, tuple[int, int]]:
        """Head name -> its (start, stop) columns of the model's output (empty: one output)."""
        heads = getattr(self.run.task, "heads", None) or []
        return {h.name: (int(h.out.start), int(h.out.stop)) for h in heads}

    def reference(self, x: Tensor) -> Tensor:
        """The PyTorch model's outputs the artefact's (heads joined) are compared with."""
        out = self.run.model(x)
        return out[:, : max(b for _, b in self.heads.values())] if self.heads else out

    @property
    def output_names(self) -> list[str]:
        return list(self.heads) or ["output"]

    def example(self, batch: int = EXAMPLE_BATCH, seed: int = 0) -> Tensor:
        """A model input of the card's shape (standard normal: inputs are normalized)."""
        shape = [int(d) for d in self.card["input"]["shape"]]
        gen = torch.Generator().manual_seed(seed)
        return torch.randn(batch, *shape, generator=gen)

    def module(self) -> nn.Module:
        """The eval-mode module the formats trace."""
        model = self.run.model.eval()
        return NamedHeads(model, list(self.heads.values())).eval() if self.heads else model


def open_source(checkpoint: str, run_dir: str | Path | None) -> ExportSource:
    """The run (``checkpoint`` best/last/a file of ``run_dir``, or a checkpoint file) opened
    for export; a run without a model card is refused (its input is not described)."""
    source = Path(run_dir) if run_dir else Path(checkpoint)
    if run_dir is not None and not source.is_dir():
        raise ConfigError(f"run dir {source} does not exist")
    run = TrainedRun.open(source, checkpoint if run_dir else "best", purpose="export")
    if run.card is None or run.task is None:
        raise ConfigError(
            f"{source} has no model card (a run from before cards, or data.class_path): export "
            "it with --format safetensors, or refit it with this litrain"
        )
    src = ExportSource(run, run.checkpoint, Path(run_dir) if run_dir else run_dir_of(run.checkpoint))
    src.metadata = metadata(src)
    return src


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def metadata(src: ExportSource) -> dict[str, str]:
    """String key -> string value (what ONNX's metadata_props and AOTInductor's metadata
    hold): class names, the preprocessing (raw input -> model input), the card, the run's
    config, litrain's version and the source checkpoint's SHA-256."""
    card = src.card
    return {
        "litrain_version": __version__,
        "litrain_source_checkpoint": src.checkpoint.name,
        "litrain_source_sha256": sha256_of(src.checkpoint),
        "litrain_ema": json.dumps(bool(src.run.ema)),
        "litrain_classes": json.dumps(list(card.get("classes") or [])),
        "litrain_preprocess": json.dumps({"input": card.get("input"), "raw": card.get("raw")}),
        "litrain_outputs": json.dumps(src.output_names),
        "litrain_card": json.dumps(card),
        "litrain_config": json.dumps(src.run.config.to_dict()),
    }
