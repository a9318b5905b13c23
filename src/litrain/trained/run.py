"""``TrainedRun``: a trained model back, from a run dir, a checkpoint file or a run group
(a pipeline's directory), with its config, model card, task and an eval-mode model holding the
weights the purpose asks for (``litrain.checkpoint.weights``). Engine-neutral: a Lightning and
a native run open the same way, and nothing here imports Lightning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from litrain.checkpoint.convert import read_any
from litrain.checkpoint.load import card_from_checkpoint
from litrain.checkpoint.weights import Purpose, load_into, weights_for
from litrain.config import Config
from litrain.data.base import DataInfo
from litrain.errors import ConfigError
from litrain.launch.environment import for_evaluation
from litrain.run.card import read_card
from litrain.run.config_source import ConfigSource
from litrain.run.parts import Parts
from litrain.run.restore import eval_setup
from litrain.tasks.base import Task
from litrain.trained.build import parts_for
from litrain.trained.preprocess import Preprocess

GROUP_KEYS = ("stages", "members")  # a run group's status file lists its members under one


class TrainedRun(nn.Module):
    """A trained model: ``model`` (eval mode), its ``task``, the ``config`` it was trained
    with, its model ``card``, the data's facts (``info``) and the ``checkpoint`` its weights
    came from. ``forward`` takes the model's input; ``outputs``/``predict`` take raw inputs
    (see :mod:`litrain.trained.preprocess`). A :class:`~litrain.trained.predictor.Predictor`."""

    def __init__(self, parts: Parts, checkpoint: Path, ema: bool = False) -> None:
        super().__init__()
        self.model = parts.model.eval()
        self.parts = parts
        self.checkpoint = checkpoint
        self.ema = ema  # the weights are the run's EMA weights
        self.preprocess = Preprocess(parts.card)

    # ---------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        source: str | Path,
        which: str = "best",
        purpose: Purpose = "eval",
        *,
        config: ConfigSource = None,
        device: str | torch.device = "cpu",
    ) -> TrainedRun:
        """A run dir (its ``which`` checkpoint: best, last or a path), a checkpoint file
        (Lightning, native or .safetensors) or a run group dir (its last member that holds a
        run) -> a TrainedRun on ``device``. ``config`` replaces the run's saved config."""
        path = Path(source).expanduser()
        if not path.exists():
            raise ConfigError(f"litrain.load: {path} does not exist: pass a run dir or a checkpoint file")
        if path.is_dir() and not (path / ".metadata").is_file():  # a run dir, not FSDP shards
            path = _member_of(path)
            cfg, _, ckpt_path = eval_setup(config, which, path, {})
        else:
            cfg, _, ckpt_path = eval_setup(config, str(path), None, {})
        return cls.from_checkpoint(cfg, ckpt_path, purpose).to(device)

    @classmethod
    def from_checkpoint(cls, cfg: Config, ckpt_path: Path, purpose: Purpose = "eval") -> TrainedRun:
        """The model ``cfg`` describes, sized from the model card (the checkpoint's, else its
        run dir's; a run from before cards rebuilds its data), with the weights of ``ckpt_path``."""
        cfg = for_evaluation(cfg, ckpt_path)
        ckpt = read_any(ckpt_path)
        card = card_from_checkpoint(ckpt) or read_card(run_dir_of(ckpt_path))
        return cls.from_parts(parts_for(cfg, card), ckpt_path, purpose, ckpt)

    @classmethod
    def from_parts(
        cls, parts: Parts, ckpt_path: Path, purpose: Purpose = "eval", ckpt: dict[str, Any] | None = None
    ) -> TrainedRun:
        """``parts`` (built by the caller, e.g. with the data to evaluate on) with the weights
        ``ckpt_path`` gives for ``purpose`` (the run's ``trainer.ema`` decides EMA or raw)."""
        ckpt = read_any(ckpt_path) if ckpt is None else ckpt
        weights = weights_for(ckpt, purpose, parts.config.trainer.ema)
        load_into(parts.model, weights.state, source=ckpt_path)
        return cls(parts, ckpt_path, weights.ema)

    # ---------------------------------------------------------------- what it is
    @property
    def config(self) -> Config:
        return self.parts.config

    @property
    def task(self) -> Task | None:  # None: the run used its own LightningDataModule
        return self.parts.task

    @property
    def info(self) -> DataInfo | None:
        return self.parts.info

    @property
    def card(self) -> dict[str, Any] | None:
        return self.parts.card

    @property
    def class_names(self) -> list[str]:
        return list(self.info.class_names) if self.info else []

    # ---------------------------------------------------------------- using it
    def forward(self, x: Any) -> Any:
        """The model's outputs for the model's input (a batch as the data module yields it)."""
        return self.model(x)

    @torch.no_grad()
    def outputs(self, inputs: Any, batch_size: int | None = None) -> Tensor:
        """The model's outputs for raw ``inputs`` (one sample or a batch), preprocessed as in
        training, computed in batches of ``data.batch_size`` on the model's device; on the CPU."""
        x = self.preprocess(inputs)
        param = next(self.model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        self.model.eval()
        size = batch_size or self.config.data.batch_size
        return torch.cat([self.model(chunk.to(device)).cpu() for chunk in x.split(size)])

    @torch.no_grad()
    def predict(self, inputs: Any, batch_size: int | None = None) -> Tensor:
        """The task's predictions (classification: (N, C) class probabilities, the columns of
        predictions.csv) for raw ``inputs``; without a litrain task, the model's outputs."""
        outputs = self.outputs(inputs, batch_size)
        if self.task is None:
            return outputs
        return self.task.prediction(outputs).float().cpu()


def run_dir_of(ckpt_path: Path) -> Path:
    """The run dir a checkpoint file belongs to."""
    return ckpt_path.parent.parent if ckpt_path.parent.name == "checkpoints" else ckpt_path.parent


def _member_of(path: Path) -> Path:
    """``path`` when it is a run dir; for a run group dir (a status file such as
    pipeline.json listing its members, one run dir each), its last member that holds a run."""
    members = _group_members(path)
    runs = [d for d in members if (d / "config.yaml").is_file()]
    if runs:
        return runs[-1]
    if (path / "config.yaml").is_file():
        return path
    raise ConfigError(
        f"litrain.load: {path} holds no config.yaml, so it is not a litrain run dir: "
        "pass the run dir or a checkpoint file"
    )


def _group_members(path: Path) -> list[Path]:
    """The member dirs a run group's status file lists in order (litrain.run.group writes
    ``{"status", <members_key>: [{"name", ...}]}``); [] when ``path`` is no group."""
    for status in sorted(path.glob("*.json")):
        try:
            data = json.loads(status.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "status" not in data:
            continue
        for key in GROUP_KEYS:
            records = data.get(key)
            if isinstance(records, list):
                return [path / str(r["name"]) for r in records if isinstance(r, dict) and r.get("name")]
    return []
