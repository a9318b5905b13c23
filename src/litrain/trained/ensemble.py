"""``Ensemble``: a Predictor pooling the class probabilities of several trained runs (uniform
mean, ``mean_prob``). Members stay separate run dirs, opened on first use; each takes raw
inputs its own way (its own card: resize, normalization), so members trained at different
input sizes take the same raw input. ``ensemble.json`` in the ensemble's dir lists them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from litrain.core.atomic import atomic_write_json
from litrain.errors import ConfigError
from litrain.trained.calibrated import CLASSIFICATION, task_mode

ENSEMBLE_FILE = "ensemble.json"
COMBINES = ("mean_prob", "val_nll_weights")


def facts(run: Any) -> dict[str, Any]:
    """What members must share: task kind, classes and the input they read."""
    card = run.card or {}
    inp = card.get("input") or {}
    return {
        "task": task_mode(run.task),
        "classes": list(run.class_names) or run.task.num_classes,
        "input": {"kind": inp.get("kind"), "channels": (inp.get("shape") or [None])[0]},
    }


def check_compatible(runs: list[tuple[str, Any]]) -> None:
    """Refuse, in one line naming both runs, members that differ in task, classes or input."""
    first_name, first = runs[0][0], facts(runs[0][1])
    for name, run in runs[1:]:
        mine = facts(run)
        for key in ("task", "classes", "input"):
            if mine[key] != first[key]:
                raise ConfigError(
                    f"ensemble members disagree on {key}: {first_name} has {first[key]}, "
                    f"{name} has {mine[key]}; combine runs trained for the same task and classes"
                )


class Ensemble(nn.Module):
    """Pooled predictions of the runs in ``members`` (run dirs). ``outputs`` are logits of
    the pooled probabilities (log p for multiclass, logit p for binary/multilabel), so the
    task's ``prediction`` of them is the pooled probabilities."""

    def __init__(
        self,
        members: list[Path],
        combine: str = "mean_prob",
        device: str = "cpu",
        weights: list[float] | Tensor | None = None,
        temperature: list[float] | float | Tensor | None = None,
    ) -> None:
        super().__init__()
        if combine not in COMBINES:
            raise ConfigError(f"ensemble combine={combine!r}: choose one of {', '.join(COMBINES)}")
        if len(members) < 2:
            raise ConfigError("an ensemble needs at least two member runs")
        self.member_dirs = [Path(m) for m in members]
        self.combine = combine
        self.device = device
        self._members: nn.ModuleList | None = None  # opened on first use
        # buffers, so state_dict and .to(device) carry the pooling and the calibration
        w = torch.full((len(members),), 1 / len(members)) if weights is None else torch.as_tensor(weights)
        self.register_buffer("weights", w.detach().double().clone())
        self.register_buffer("temperature", torch.ones(()))
        self.set_temperature(torch.ones(()) if temperature is None else torch.as_tensor(temperature))

    @classmethod
    def open(cls, path: str | Path, device: str = "cpu") -> Ensemble:
        record = json.loads((Path(path) / ENSEMBLE_FILE).read_text())
        base = Path(path)
        members = [base / m if not Path(m).is_absolute() else Path(m) for m in record["members"]]
        calibration = record.get("calibration") or {}
        return cls(
            members,
            record.get("combine", "mean_prob"),
            device,
            record.get("weights"),
            calibration.get("temperature"),
        )

    def set_temperature(self, temperature: Tensor) -> None:
        """The temperature of the pooled logits: () multiclass, (K,) per output otherwise."""
        self.temperature = temperature.detach().float().clone()
        # a Python flag, not a test of the buffer: export traces pool() without data-dependent branches
        self.calibrated = bool((self.temperature != 1).any())

    @property
    def members(self) -> nn.ModuleList:
        if self._members is None:
            from litrain.trained.run import TrainedRun

            self._members = nn.ModuleList([TrainedRun.open(d, device=self.device) for d in self.member_dirs])
        return self._members

    @property
    def task(self) -> Any:
        return self.members[0].task

    @property
    def card(self) -> dict[str, Any] | None:
        return self.members[0].card

    @property
    def config(self) -> Any:
        return self.members[0].config

    @property
    def class_names(self) -> list[str]:
        return self.members[0].class_names

    def member_probs(self, inputs: Any, batch_size: int | None = None) -> Tensor:
        """(M, N, C) each member's class probabilities for raw ``inputs``."""
        return torch.stack([m.predict(inputs, batch_size) for m in self.members])

    def pool(self, members: Tensor) -> Tensor:
        """(N, C) the ``weights``-weighted mean of (M, N, C) member probabilities, then the
        temperature (applied to the pooled logits; 1 leaves the mean as it is)."""
        pooled = (self.weights.to(members.device, torch.float64)[:, None, None] * members.double()).sum(0)
        if not self.calibrated:
            return pooled.float()
        logits = self._logits(pooled) / self.temperature.to(pooled.device)
        return self.task.prediction(logits).float()

    def split_probs(self, split: str) -> tuple[Tensor, Tensor | None]:
        """((M, N, C) member probabilities, targets) on ``split`` of the data the members
        trained on: each member reads it through its own config (its own input size and
        normalization); the members of one ensemble share the split (data.split_seed)."""
        from litrain.data.datamodule import build_datamodule
        from litrain.trained.outputs import outputs_on

        probs, targets = [], None
        built: dict[str, Any] = {}  # members reading the same data share one data module
        for d, m in zip(self.member_dirs, self.members, strict=True):
            cfg = m.config
            # the split comes from data.split_seed, else from run.seed
            seed = cfg.run.seed if cfg.data.split_seed is None else None
            key = json.dumps(
                [cfg.data.model_dump(mode="json"), cfg.task.model_dump(mode="json"), seed], sort_keys=True
            )
            if key not in built:
                built[key] = build_datamodule(cfg.data, cfg.task, cfg.run.seed)
                built[key].setup("fit" if split == "val" else "test")
            out, y = outputs_on(m, built[key], split)
            if targets is not None and y is not None and not torch.equal(targets, y):
                raise ConfigError(
                    f"ensemble member {d} reads another {split} split than {self.member_dirs[0]}: "
                    "members must share the data and data.split_seed"
                )
            targets = y if targets is None else targets
            probs.append(m.task.prediction(out).float())
        return torch.stack(probs), targets

    def _logits(self, pooled: Tensor) -> Tensor:
        p = pooled.double().clamp(1e-12, 1 - 1e-12)
        mode = task_mode(self.task)
        if mode == "multiclass":
            return p.log().float()
        if mode == "binary":
            p = p[:, 1:]
        return (p.log() - (1 - p).log()).float()

    @torch.no_grad()
    def outputs(self, inputs: Any, batch_size: int | None = None) -> Tensor:
        return self._logits(self.pool(self.member_probs(inputs, batch_size)).double())

    @torch.no_grad()
    def predict(self, inputs: Any, batch_size: int | None = None) -> Tensor:
        """(N, C) the members' pooled class probabilities (the mean for ``mean_prob``, then the
        ensemble's temperature if it has one)."""
        return self.pool(self.member_probs(inputs, batch_size))

    def forward(self, x: Tensor) -> Tensor:
        """Pooled logits for a batch of the first member's model input; a member trained at
        another image size gets it resized. Members normalized with other statistics see the
        first one's normalization here: ``outputs``/``predict`` (raw inputs) are exact."""
        return self.pooled_logits(self.model_member_probs(x))

    def pooled_logits(self, members: Tensor) -> Tensor:
        """The logits of the pooled (M, N, C) member probabilities (:meth:`pool`)."""
        return self._logits(self.pool(members).double())

    def model_member_probs(self, x: Tensor) -> Tensor:
        """(M, N, C) each member's class probabilities for a batch of model input (see
        ``forward``)."""
        from litrain.data.transforms import resize_images

        probs = []
        for m in self.members:
            shape = tuple((m.card or {}).get("input", {}).get("shape") or ())
            xm = x
            if len(shape) == 3 and x.ndim == 4 and tuple(x.shape[-2:]) != shape[-2:]:
                xm = resize_images(x, int(shape[-1]))
            probs.append(m.task.prediction(m(xm)).float())
        return torch.stack(probs)


def build_ensemble(runs: list[str | Path], output: str | Path, combine: str = "mean_prob") -> Path:
    """Check the runs agree, then write ``output/ensemble.json`` listing them."""
    from litrain.trained.run import TrainedRun

    out = Path(output)
    if (out / ENSEMBLE_FILE).exists():
        raise ConfigError(f"{out / ENSEMBLE_FILE} exists: choose another --output")
    opened = [(str(r), TrainedRun.open(r)) for r in runs]
    for name, run in opened:
        if run.config.task.type not in CLASSIFICATION:
            raise ConfigError(
                f"{name}: ensembles pool class probabilities, and it has task.type={run.config.task.type}"
            )
    check_compatible(opened)
    Ensemble([Path(r) for r in runs], combine)  # the combine and member count are valid
    out.mkdir(parents=True, exist_ok=True)
    members = [str(Path(r).resolve()) for r in runs]
    atomic_write_json(out / ENSEMBLE_FILE, {"members": members, "combine": combine})
    return out / ENSEMBLE_FILE
