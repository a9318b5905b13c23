"""What every export format starts from: the run opened for export (the model the card
describes, holding the eval weights the run declares: EMA or raw), the example input the
card's shape gives, the module to trace (one named output per head of a multi-task model; a
calibrated run's logits divided by its temperature; an ensemble with its uncertainty
outputs) and the metadata every artefact carries."""

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
from litrain.trained.calibrated import read_calibration
from litrain.trained.ensemble import ENSEMBLE_FILE, Ensemble
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


class EnsembleGraph(nn.Module):
    """An ensemble as one graph: the pooled logits (the output the gate and predict read),
    then the pooled class probabilities, their entropy (total uncertainty) and the members'
    mutual information (their disagreement), each in nats per sample."""

    def __init__(self, ensemble: Any) -> None:
        super().__init__()
        self.ensemble = ensemble

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        from litrain.tasks import uncertainty as U

        members = self.ensemble.model_member_probs(x)
        # pooled as the ensemble pools (its weights, then its temperature), as predict writes it
        cols = U.uncertainty_columns(members, self.ensemble.weights, self.ensemble.task.mode)
        outs = (
            self.ensemble.pooled_logits(members),
            self.ensemble.pool(members),
            cols["predictive_entropy"],
            cols["mutual_information"],
        )
        return tuple(o.float() for o in outs)


class Scaled(nn.Module):
    """A calibrated run's model: its logits divided by the fitted temperature (a buffer)."""

    def __init__(self, model: nn.Module, temperature: Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("temperature", temperature)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x) / self.temperature


ENSEMBLE_OUTPUTS = ["probabilities", "entropy", "mutual_information"]


@dataclass
class ExportSource:
    """The opened run and what the formats need of it."""

    run: Any  # a TrainedRun, or an Ensemble of them
    checkpoint: Path  # the run's checkpoint; an ensemble's ensemble.json
    run_dir: Path
    metadata: dict[str, str] = field(default_factory=dict)
    members: list[Path] = field(default_factory=list)  # an ensemble's member checkpoints
    temperature: Tensor | None = None  # `litrain calibrate`'s, fitted for this checkpoint

    @property
    def is_ensemble(self) -> bool:
        return bool(self.members)

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
        out = self.run(x) if self.is_ensemble else self.run.model(x)
        if self.temperature is not None:
            out = out / self.temperature
        return out[:, : max(b for _, b in self.heads.values())] if self.heads else out

    @property
    def output_names(self) -> list[str]:
        """The outputs the gate and ``predict --model`` read (joined in this order)."""
        return list(self.heads) or ["output"]

    @property
    def extra_outputs(self) -> list[str]:
        """Named outputs after those: an ensemble's uncertainty."""
        return ENSEMBLE_OUTPUTS if self.is_ensemble else []

    def example(self, batch: int = EXAMPLE_BATCH, seed: int = 0) -> Tensor:
        """A model input of the card's shape (standard normal: inputs are normalized)."""
        shape = [int(d) for d in self.card["input"]["shape"]]
        gen = torch.Generator().manual_seed(seed)
        return torch.randn(batch, *shape, generator=gen)

    def module(self) -> nn.Module:
        """The eval-mode module the formats trace."""
        if self.is_ensemble:
            return EnsembleGraph(self.run.eval()).eval()
        model = self.run.model.eval()
        if self.temperature is not None:
            model = Scaled(model, self.temperature).eval()
        return NamedHeads(model, list(self.heads.values())).eval() if self.heads else model


def open_source(checkpoint: str, run_dir: str | Path | None) -> ExportSource:
    """The run (``checkpoint`` best/last/a file of ``run_dir``, or a checkpoint file) opened
    for export; a run without a model card is refused (its input is not described)."""
    source = Path(run_dir) if run_dir else Path(checkpoint)
    if run_dir is not None and not source.is_dir():
        raise ConfigError(f"run dir {source} does not exist")
    if (source / ENSEMBLE_FILE).is_file():  # `litrain ensemble`'s dir: its members' eval weights
        return _ensemble_source(source)
    run = TrainedRun.open(source, checkpoint if run_dir else "best", purpose="export")
    if run.card is None or run.task is None:
        raise ConfigError(
            f"{source} has no model card (a run from before cards, or data.class_path): export "
            "it with --format safetensors, or refit it with this litrain"
        )
    src = ExportSource(run, run.checkpoint, Path(run_dir) if run_dir else run_dir_of(run.checkpoint))
    src.temperature = read_calibration(src.run_dir, run.checkpoint)  # predict applies it too
    src.metadata = metadata(src)
    return src


def _ensemble_source(path: Path) -> ExportSource:
    ens = Ensemble.open(path)
    runs = list(ens.members)
    if any(r.card is None for r in runs):
        raise ConfigError(f"{path}: every ensemble member needs a model card to export; refit the older ones")
    src = ExportSource(ens, path / ENSEMBLE_FILE, path, members=[r.checkpoint for r in runs])
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
    meta = {
        "litrain_version": __version__,
        "litrain_source_checkpoint": src.checkpoint.name,
        "litrain_source_sha256": sha256_of(src.checkpoint),
        "litrain_ema": json.dumps(bool(getattr(src.run, "ema", False))),
        "litrain_classes": json.dumps(list(card.get("classes") or [])),
        "litrain_preprocess": json.dumps({"input": card.get("input"), "raw": card.get("raw")}),
        "litrain_outputs": json.dumps(src.output_names),
        "litrain_extra_outputs": json.dumps(src.extra_outputs),
        "litrain_card": json.dumps(card),
        "litrain_config": json.dumps(src.run.config.to_dict()),
    }
    if src.temperature is not None:
        meta["litrain_temperature"] = json.dumps(src.temperature.tolist())
    if src.is_ensemble:
        meta["litrain_members"] = json.dumps(
            [{"checkpoint": str(p), "sha256": sha256_of(p)} for p in src.members]
        )
    return meta
