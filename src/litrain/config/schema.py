"""The typed config: one pydantic class per section (loading and merging are in
``config.load``, flag names and hints in ``config.keys``).

A name from a vocabulary (engine, task, loss, optimizer, schedule, strategy, augment preset,
data source) is a plain ``str`` checked against its registry, so registering a new entry
needs no change here. Pure data and validation; importing this module never imports torch,
so ``litrain --help`` stays instant.
"""

from __future__ import annotations

import re
import signal
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from litrain.config.templates import check_template
from litrain.registry import (
    AUGMENTS,
    DATASETS,
    ENGINES,
    LOSSES,
    OPTIMIZERS,
    SAMPLERS,
    SCHEDULERS,
    STRATEGIES,
    TASKS,
    Registry,
)

# The error type of an unknown registry name; config.load prints its message as it is.
UNKNOWN_NAME = "unknown_name"
# Marks a key that holds a file or directory: relative in a YAML file means relative to that
# file (config.load), and a saved config records it absolute (Config.save).
PATH: dict[str, Any] = {"path": True}
# The error type of a rule across keys (its message names them all); printed as it is too.
RULE = "config_rule"


def parse_signals(names: list[str]) -> list[signal.Signals]:
    """``["SIGTERM", "usr1"]`` -> signal numbers; ValueError names an unknown one."""
    out = []
    for name in names:
        key = name.upper() if name.upper().startswith("SIG") else "SIG" + name.upper()
        if not hasattr(signal, key) or key in ("SIGKILL", "SIGSTOP"):
            raise ValueError(f"unknown or uncatchable signal {name!r}")
        out.append(getattr(signal, key))
    return out


MAX_TIME_FORMS = (
    "DD:HH:MM:SS (e.g. 00:02:30:00), a mapping (e.g. {hours: 2, minutes: 30}) or seconds (e.g. 9000)"
)
_MAX_TIME_UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def max_time_seconds(value: Any) -> int | None:
    """Whole seconds (rounded up) of a ``trainer.max_time`` as the config accepts it:
    ``"DD:HH:MM:SS"``, ``{days|hours|minutes|seconds: n}`` or a number of seconds. None stays
    None; ValueError (naming the accepted forms) for anything else."""
    if value is None:
        return None
    total: float
    if isinstance(value, bool):  # YAML `true` is not a duration
        raise ValueError(f"must be {MAX_TIME_FORMS}")
    if isinstance(value, int | float):
        total = value
    elif isinstance(value, dict):
        unknown = sorted(set(value) - set(_MAX_TIME_UNITS))
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values())
        if unknown or not value or not numbers:
            raise ValueError(
                f"must be {MAX_TIME_FORMS}; a mapping takes numbers of days, hours, minutes, seconds"
            )
        total = sum(_MAX_TIME_UNITS[k] * v for k, v in value.items())
    elif isinstance(value, str):
        text = value.strip()
        parts = text.split(":")
        try:
            if len(parts) == 1:
                total = float(text)
            elif len(parts) == 4 and all(p.strip().isdigit() for p in parts):
                d, h, m, s = (int(p) for p in parts)
                total = ((d * 24 + h) * 60 + m) * 60 + s
            else:
                raise ValueError
        except ValueError:
            raise ValueError(f"must be {MAX_TIME_FORMS}") from None
    else:
        raise ValueError(f"must be {MAX_TIME_FORMS}")
    if not total > 0 or total == float("inf"):
        raise ValueError(f"must be a positive duration: {MAX_TIME_FORMS}")
    return int(-(-total // 1))  # ceil: a limit is never shortened


def canonical_max_time(value: Any) -> str | None:
    """``DD:HH:MM:SS`` with two-digit fields: the one form Lightning's Timer and the native
    loop both read."""
    seconds = max_time_seconds(value)
    if seconds is None:
        return None
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(minutes, 60)
    d, h = divmod(hours, 24)
    return f"{d:02d}:{h:02d}:{m:02d}:{s:02d}"


def rule_error(message: str) -> PydanticCustomError:
    """An error of a rule across keys; its message names the keys (printed as it is)."""
    return PydanticCustomError(RULE, "{message}", {"message": message})


def known(registry: Registry, name: str) -> str:
    """``name`` if ``registry`` holds it, else a field error listing close matches."""
    if name not in registry:
        raise PydanticCustomError(UNKNOWN_NAME, "{message}", {"message": registry.unknown_message(name)})
    return name


# A name from a registry (validated by membership; unknown names list close matches).
EngineName = Annotated[str, AfterValidator(partial(known, ENGINES))]
SourceName = Annotated[str, AfterValidator(partial(known, DATASETS))]
AugmentName = Annotated[str, AfterValidator(partial(known, AUGMENTS))]
TaskName = Annotated[str, AfterValidator(partial(known, TASKS))]
LossName = Annotated[str, AfterValidator(partial(known, LOSSES))]
SchedulerName = Annotated[str, AfterValidator(partial(known, SCHEDULERS))]
OptimizerName = Annotated[str, AfterValidator(partial(known, OPTIMIZERS))]
StrategyName = Annotated[str, AfterValidator(partial(known, STRATEGIES))]
SamplerName = Annotated[str, AfterValidator(partial(known, SAMPLERS))]

# task.class_weights: a rule that computes them from the training split's class counts
# (litrain.tasks.class_weights), or the weights themselves.
ClassWeights = Literal["auto", "inverse", "effective_number"] | list[float] | None
CLASS_WEIGHTS_HELP = (
    "Class weights: auto, inverse, effective_number (from the training split's counts) or a "
    "list (one per class; multilabel: each label's positive weight); binary/multilabel "
    "losses get them as per-label positive weights."
)


class Section(BaseModel):
    """Base of every section: unknown keys are errors, assignments are validated."""

    # Numbers typed where a name is expected (--name 2024) are names, not errors.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, coerce_numbers_to_str=True)


class RunConfig(Section):
    name: str = Field("litrain", description="Run name; the run dir is runs/<name>/<time>.")
    dir: str | None = Field(
        None, description="Fixed run directory (overrides runs/<name>/<time>).", json_schema_extra=PATH
    )
    seed: int = Field(42, description="Seed for python, numpy and torch RNGs and the data split.")
    deterministic: bool = Field(False, description="Use deterministic algorithms (slower).")
    engine: EngineName = Field(
        "lightning", description="lightning (L.Trainer) or native (plain PyTorch loop)."
    )


class MixupConfig(Section):
    """Batch mixup / cutmix (timm's Mixup in batch mode): on with alpha or cutmix_alpha > 0."""

    alpha: float = Field(0.0, ge=0.0, description="Mixup: lam ~ Beta(alpha, alpha); 0: no mixup.")
    cutmix_alpha: float = Field(
        0.0, ge=0.0, description="CutMix: lam ~ Beta(a, a), a box of area 1-lam pasted; 0: no cutmix."
    )
    prob: float = Field(1.0, ge=0.0, le=1.0, description="Chance a train batch is mixed at all.")
    switch_prob: float = Field(
        0.5, ge=0.0, le=1.0, description="With both alphas > 0: chance a mixed batch uses cutmix."
    )

    @property
    def enabled(self) -> bool:
        return self.prob > 0 and (self.alpha > 0 or self.cutmix_alpha > 0)


class DataConfig(Section):
    source: SourceName = Field("digits", description="Data source name: digits, mnist, cifar10, ...")
    root: str | None = Field(
        None, description="Directory the source reads its files from.", json_schema_extra=PATH
    )
    download: bool = Field(False, description="Allow downloading the data set (network).")
    batch_size: Annotated[int, Field(gt=0)] | Literal["auto"] = Field(
        64,
        description="Samples per batch (per process); auto: the largest one training step fits in "
        "(`litrain tune batch-size`).",
        json_schema_extra={"expects": "a positive integer or 'auto'"},
    )
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes.")
    pin_memory: bool = Field(False, description="Pin host memory for faster GPU copies.")
    persistent_workers: bool = Field(False, description="Keep workers alive between epochs.")
    in_memory: Literal["auto", "true", "false"] = Field(
        "auto",
        description="Serve tensor data sets from memory, batches sliced on the training device "
        "(auto: when the split fits in data.in_memory_max_gb; num_workers is then unused).",
    )
    in_memory_max_gb: float = Field(2.0, gt=0, description="in_memory=auto: largest split held, GiB.")
    val_split: float = Field(0.2, ge=0.0, lt=1.0, description="Fraction of train held out for validation.")
    split_seed: int | None = Field(
        None,
        description="Seed of the train/val/test split (none: run.seed). Ensemble members share one "
        "split and differ in run.seed (their init and data order).",
    )
    test_split: float = Field(
        0.0, ge=0.0, lt=1.0, description="Fraction held out for test when a source has none."
    )
    image_size: int | None = Field(None, gt=0, description="Resize images to this side length.")
    augment: AugmentName = Field(
        "none",
        description="Train augmentation preset: none, flip, crop, light (flip+crop), medium, "
        "aggressive, randaugment, trivialaugment, autoaugment, augmix.",
    )
    augment_strength: float = Field(
        1.0, ge=0.0, description="Scales the preset's magnitudes (0: no augmentation, 1: the preset's own)."
    )
    augment_device: Literal["auto", "cpu", "device"] = Field(
        "auto",
        description="Where train augmentation runs: cpu (per sample, in the loader), device (on the "
        "whole batch, on the training device) or auto (device on a GPU, else cpu).",
    )
    augment_class_strength: list[float] | Literal["auto"] | None = Field(
        None,
        description="Per-class multipliers of augment_strength (a list, one per class), or auto: "
        "(largest class count / the class's count) ** 0.5, clipped to [1, 4].",
    )
    augment_same_views: bool = Field(
        False, description="Multi-view samples: one random transform for every view (default: one each)."
    )
    mixup: MixupConfig = Field(default_factory=MixupConfig)
    normalize: bool = Field(True, description="Normalize inputs with the data set's stats.")
    shape: list[int] = Field(
        [3, 32, 32], description="synthetic: shape of one sample (e.g. [3, 32, 32] or [20])."
    )
    num_samples: int = Field(512, gt=0, description="synthetic, pde: number of samples.")
    num_classes: int = Field(10, gt=0, description="synthetic: number of classes.")
    class_path: str | None = Field(
        None, description="Import path of your own LightningDataModule (explicit opt-in)."
    )
    init_args: dict[str, Any] = Field({}, description="Keyword arguments for class_path.")
    storage_options: dict[str, Any] = Field(
        {}, description="fsspec options for remote URLs (s3: endpoint_url, key, secret, client_kwargs)."
    )
    pde: Literal["burgers", "heat", "advection", "darcy"] = Field(
        "burgers",
        description="pde source: burgers, heat or advection (1-D, periodic) or darcy (2-D flow).",
    )
    pde_resolution: int = Field(64, ge=8, description="pde: grid points per spatial axis.")
    pde_time: float = Field(1.0, gt=0, description="pde (1-D): time t of the target solution.")
    pde_coef: float | None = Field(
        None,
        gt=0,
        description="pde: burgers viscosity (default 0.1), heat diffusivity (0.01), advection speed (0.5).",
    )
    pde_steps: int = Field(
        1, ge=1, description="pde (1-D): target time steps T (a rollout at t*k/T, as T channels)."
    )
    pde_grid: bool = Field(True, description="pde: add the grid coordinates as input channels.")
    pde_tasks: list[Literal["burgers", "heat", "advection"]] = Field(
        [],
        description="pde: several 1-D equations from the same initial fields, one multi-task head each "
        "(task.heads.<pde>); data.pde is then unused.",
    )
    pde_seed: int = Field(0, description="pde: seed of the generated fields (not run.seed).")
    frames_per_clip: int = Field(8, gt=0, description="video: frames in one clip.")
    frame_stride: int = Field(1, gt=0, description="video: take every n-th frame (random/center sampling).")
    clip_sampling: Literal["uniform", "random", "center"] = Field(
        "center",
        description="video: which frames form a clip: uniform (spread over the whole video), "
        "random (random start in training, seeded; center for val/test) or center.",
    )
    img_height: int | None = Field(
        None, gt=0, description="video/annotated images: resize frames to this height."
    )
    img_width: int | None = Field(
        None, gt=0, description="video/annotated images: resize frames to this width."
    )
    annotations: str | None = Field(
        None,
        description="video_files/image_annotations: the CSV or JSON annotation file "
        "(default: annotations.csv or annotations.json in data.root).",
        json_schema_extra=PATH,
    )
    # Streamed shards (source: shards): WebDataset tar shards, local or remote.
    train_urls: list[str] | str | None = Field(
        None,
        description="shards: training shards: a brace pattern (train-{000..099}.tar), a list, local "
        "paths, http(s):// or s3:// URLs, or a local LitData dir (litrain shard --format litdata).",
    )
    val_urls: list[str] | str | None = Field(
        None, description="shards: validation shards (none: no validation; val_split does not apply)."
    )
    test_urls: list[str] | str | None = Field(None, description="shards: test shards (none: no test split).")
    cache_dir: str | None = Field(
        None,
        description="shards: where remote shards are cached (default ~/.cache/litrain/shards).",
        json_schema_extra=PATH,
    )
    cache_limit_gb: float = Field(
        50.0, gt=0, description="shards: most GiB cache_dir may hold; a run needing more stops with an error."
    )
    shuffle_buffer: int = Field(
        1000, ge=0, description="shards: samples mixed in the train shuffle buffer (0: shard order only)."
    )
    sampler: SamplerName = Field(
        "random",
        description="Train sampler: random (seeded shuffle), balanced (classes drawn equally often) "
        "or progressive (natural to balanced class frequencies over data.progressive_epochs).",
    )
    progressive_epochs: int = Field(
        10, gt=0, description="progressive sampler: epochs until the draws are fully balanced."
    )
    sampler_head: str | None = Field(
        None, description="multitask: the classification head whose labels drive the sampler."
    )
    augment_class_head: str | None = Field(
        None,
        description="multitask: the classification head whose labels set data.augment_class_strength.",
    )
    on_bad_sample: Literal["error", "skip"] = Field(
        "error",
        description="An unreadable, corrupt or too-short sample (video, shard): stop with an error, "
        "or skip it (counted and logged).",
    )

    @model_validator(mode="after")
    def _sampler_needs_own_data(self) -> DataConfig:
        if self.sampler != "random" and self.class_path:
            raise rule_error(
                f"data.sampler={self.sampler} draws from litrain's own data sources, but data.class_path "
                "brings its own loaders: drop data.sampler (or data.class_path)"
            )
        return self

    @field_validator("augment_class_strength")
    @classmethod
    def _class_strength(cls, v: list[float] | str | None) -> list[float] | str | None:
        if isinstance(v, list) and (not v or any(m < 0 for m in v)):
            raise ValueError("must be auto or a list of non-negative multipliers, one per class")
        return v

    @field_validator("in_memory", mode="before")
    @classmethod
    def _in_memory(cls, v: Any) -> Any:
        return str(v).lower() if isinstance(v, bool) else v  # YAML reads `true` as a bool

    @model_validator(mode="after")
    def _urls_need_shards(self) -> DataConfig:
        # only the shards source reads URLs: another source would silently train on its own data
        given = [k for k in ("train_urls", "val_urls", "test_urls") if getattr(self, k)]
        if given and self.source != "shards":
            raise rule_error(
                f"data.{given[0]} is set but data.source={self.source}, which does not read shard "
                "URLs: set data.source shards, or drop the URLs"
            )
        return self


# What an fno config saved before the operator options holds and what it trained
# (ModelConfig._fno_saved_before_its_options).
KEYS_SAVED_BEFORE_OPERATOR_OPTIONS = frozenset(
    {"name", "pretrained", "weights", "download", "dropout", "in_chans", "hidden", "class_path"}
    | {"init_args", "modes", "width", "layers", "view_pool"}
)
OPERATOR_OPTIONS = frozenset(
    {"grid_embedding", "padding", "lifting_ratio", "projection_ratio", "channel_mlp", "skip"}
    | {"norm", "factorization", "rank"}
)
FNO_LAYOUT_BEFORE_OPTIONS = {
    "grid_embedding": False,
    "lifting_ratio": 0,
    "projection_ratio": 4,
    "channel_mlp": False,
}


class EnsembleConfig(Section):
    members: int | list[str | dict[str, Any]] = Field(
        2,
        description="How many members (each its own run.seed), or one entry per member: a model name "
        "(resnet18) or overrides ({model.name: cnn, optim.lr: 0.01}); a comma list from a flag.",
    )
    combine: Literal["mean_prob", "val_nll_weights"] = Field(
        "mean_prob",
        description="mean_prob: the members' mean class probabilities; val_nll_weights: weights on "
        "the simplex fitted on the validation split to minimise the pooled NLL.",
    )
    calibrate: Literal["auto", "none"] = Field(
        "auto", description="auto: temperature scaling of the pooled probabilities on the validation split."
    )

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, value: Any) -> Any:
        if isinstance(value, str):  # --model.ensemble.members resnet18,resnet34 or 3
            items = [v.strip() for v in value.split(",") if v.strip()]
            return int(items[0]) if len(items) == 1 and items[0].isdigit() else items
        return value

    @field_validator("members")
    @classmethod
    def _at_least_two(cls, value: Any) -> Any:
        if (value if isinstance(value, int) else len(value)) < 2:
            raise ValueError("an ensemble needs at least two members")
        return value


class ModelConfig(Section):
    name: str = Field("mlp", description="mlp, cnn, resnet18_cifar, timm:<name>, torchvision:<name>.")
    pretrained: bool = Field(False, description="Load pretrained weights (local file or cache).")
    weights: str | None = Field(
        None, description="Local weights file (.pt/.pth/.safetensors).", json_schema_extra=PATH
    )
    download: bool = Field(False, description="Allow downloading pretrained weights (network).")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout before the classifier head.")
    in_chans: int | None = Field(None, gt=0, description="Input channels (default: from data).")
    hidden: list[int] = Field([256, 128], description="mlp: hidden layer widths.")
    class_path: str | None = Field(
        None, description="Import path of your own LightningModule or nn.Module (opt-in)."
    )
    init_args: dict[str, Any] = Field({}, description="Keyword arguments for class_path.")
    modes: int | list[int] | Literal["auto"] = Field(
        "auto",
        description="fno: Fourier modes kept per spatial axis (one number, or one per axis), at most "
        "what the grid holds; auto: up to 16 per axis.",
    )
    width: int = Field(32, gt=0, description="fno: channels of the hidden layers; unet: first level's.")
    layers: int = Field(4, gt=0, description="fno: Fourier layers; unet: down/up levels.")
    grid_embedding: bool = Field(True, description="fno: append the grid coordinates to the input.")
    padding: float = Field(
        0.0, ge=0, le=1, description="fno, unet: pad the grid by this fraction (non-periodic problems)."
    )
    lifting_ratio: float = Field(
        2.0, ge=0, description="fno: hidden channels of the lifting MLP per width (0: one linear layer)."
    )
    projection_ratio: float = Field(
        2.0, ge=0, description="fno: hidden channels of the projection MLP per width (0: one linear layer)."
    )
    channel_mlp: bool = Field(True, description="fno: a soft-gated channel MLP in each Fourier block.")
    skip: Literal["linear", "identity", "soft-gating"] = Field(
        "linear", description="fno: the skip beside each spectral convolution."
    )
    norm: Literal["auto", "none", "group", "instance", "batch"] = Field(
        "auto", description="fno, unet: normalisation in the blocks; auto: none (fno), group (unet)."
    )
    factorization: Literal["none", "cp", "tucker"] = Field(
        "none", description="fno: store the spectral weights factorised (cp or tucker)."
    )
    rank: float = Field(
        1.0, gt=0, le=1, description="fno factorization: fraction of the dense weight's values kept."
    )
    ensemble: EnsembleConfig | None = Field(
        None,
        description="Train several members as one run group and pool them: {members: 3 | [names or "
        "overrides], combine, calibrate} (docs/uncertainty.md).",
        json_schema_extra={"section": True},  # --model.ensemble.members 3 turns it on
    )

    @model_validator(mode="before")
    @classmethod
    def _fno_saved_before_its_options(cls, data: Any) -> Any:
        """A saved config.yaml lists every model key. One that names fno with the keys litrain
        saved before the operator options, and none of those options, is an earlier run's:
        it trained the layout of then (no grid embedding, one linear lifting layer, a
        4x-wide projection, no channel MLP). Build that, so its checkpoints still load."""
        if (
            isinstance(data, dict)
            and data.get("name") == "fno"
            and data.keys() >= KEYS_SAVED_BEFORE_OPERATOR_OPTIONS
            and not OPERATOR_OPTIONS & data.keys()
        ):
            return {**FNO_LAYOUT_BEFORE_OPTIONS, **data}
        return data

    @field_validator("modes")
    @classmethod
    def _positive_modes(cls, v: int | list[int] | str) -> int | list[int] | str:
        if v == "auto":
            return v
        if any(m <= 0 for m in ([v] if isinstance(v, int) else v)) or v == []:  # type: ignore[union-attr]
            raise ValueError("must be a positive number, or a list of them (one per spatial axis)")
        return v

    view_pool: Literal["none", "max", "mean", "attention"] = Field(
        "none",
        description="Multi-view inputs (N, V, ...): pool the per-view features with max, mean or "
        "attention (masked views ignored); none: inputs have no view axis.",
    )


FOCAL_ALPHA_HELP = (
    "focal loss: alpha, a list of one weight per class (classification) or the positives' "
    "weight in [0, 1] (binary/multilabel); null: none (or class_weights)."
)


def check_imbalance_options(cfg: Any, key: str) -> None:
    """The rules class weights and the focal loss share in ``task`` and each head."""
    weights, alpha = cfg.class_weights, cfg.focal_alpha
    if isinstance(weights, list) and (not weights or min(weights) < 0 or max(weights) <= 0):
        raise rule_error(f"{key}.class_weights={weights}: give non-negative numbers, at least one positive")
    if weights is not None and cfg.pos_weight is not None:
        raise rule_error(
            f"{key}.class_weights and {key}.pos_weight both weight the positives: drop one of them"
        )
    if alpha is not None and cfg.loss != "focal":
        raise rule_error(f"{key}.focal_alpha is set but {key}.loss is {cfg.loss}: set {key}.loss focal")
    if alpha is not None and weights is not None:
        raise rule_error(
            f"{key}.focal_alpha and {key}.class_weights both weight the classes of the focal loss "
            "(class weights are its alpha): drop one of them"
        )
    if isinstance(alpha, float | int) and not 0 <= alpha <= 1:
        raise rule_error(f"{key}.focal_alpha={alpha}: the positives' weight must be in [0, 1]")
    if isinstance(alpha, list) and (not alpha or min(alpha) < 0):
        raise rule_error(f"{key}.focal_alpha={alpha}: give one non-negative weight per class")
    if cfg.loss == "focal" and cfg.label_smoothing:
        raise rule_error(
            f"{key}.loss=focal does not take label smoothing (its (1-p)^gamma factor assumes hard "
            f"labels): set {key}.label_smoothing 0"
        )


class HeadConfig(Section):
    """One head of a multi-task model (``task.heads.<name>``)."""

    type: Literal["classification", "binary", "multilabel", "regression"] = Field(
        "classification", description="classification (multiclass), binary, multilabel or regression."
    )
    num_classes: int | None = Field(None, gt=0, description="Classes or labels (default: from data).")
    loss: LossName | None = Field(
        None,
        description="A loss name; default ce (classification), bce (binary/multilabel), mse (regression).",
    )
    weight: float = Field(1.0, ge=0, description="Fixed weight of this head's loss.")
    class_weights: ClassWeights = Field(None, description=CLASS_WEIGHTS_HELP)
    class_weight_beta: float = Field(
        0.999, ge=0, lt=1, description="class_weights=effective_number: beta of (1-beta^n)/(1-beta)."
    )
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0, description="Label smoothing factor.")
    pos_weight: float | None = Field(None, gt=0, description="binary: weight of positive samples.")
    huber_delta: float = Field(1.0, gt=0, description="huber/smooth_l1 loss: where it turns linear.")
    focal_gamma: float = Field(2.0, ge=0, description="focal loss: focusing exponent gamma (0: ce/bce).")
    focal_alpha: float | list[float] | None = Field(None, description=FOCAL_ALPHA_HELP)

    @model_validator(mode="after")
    def _imbalance_options(self) -> HeadConfig:
        check_imbalance_options(self, "task.heads.<name>")
        return self


class RolloutTermConfig(Section):
    """``task.loss_terms.rollout``: the model applied to its own output."""

    weight: float = Field(0.5, ge=0, description="Weight of the rollout loss.")
    steps: int = Field(4, ge=1, description="Time steps rolled out from the input (k = 1..steps).")


class LossTermsConfig(Section):
    """``task.loss_terms``: the terms of an operator's loss, each logged as train/<term>_loss."""

    forward: float = Field(1.0, ge=0, description="Weight of the one-step loss (task.loss).")
    spectral: float = Field(0.0, ge=0, description="Weight of the power-spectrum loss (fields).")
    rollout: RolloutTermConfig | None = Field(None, description="{weight, steps}: the rollout loss.")


class TaskConfig(Section):
    type: TaskName = Field("classification", description="classification (multiclass), binary or multilabel.")
    num_classes: int | None = Field(None, gt=0, description="Classes (default: from data).")
    multilabel: bool = Field(False, description="Shorthand for type: multilabel.")
    loss: LossName | None = Field(
        None,
        description="ce, bce or focal; default ce for classification, bce for binary/multilabel.",
    )
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0, description="Label smoothing factor.")
    pos_weight: float | None = Field(None, gt=0, description="binary: weight of positive samples.")
    huber_delta: float = Field(1.0, gt=0, description="huber/smooth_l1 loss: where it turns linear.")
    class_weights: ClassWeights = Field(None, description=CLASS_WEIGHTS_HELP)
    class_weight_beta: float = Field(
        0.999, ge=0, lt=1, description="class_weights=effective_number: beta of (1-beta^n)/(1-beta)."
    )
    focal_gamma: float = Field(2.0, ge=0, description="focal loss: focusing exponent gamma (0: ce/bce).")
    focal_alpha: float | list[float] | None = Field(None, description=FOCAL_ALPHA_HELP)
    normalize_targets: bool = Field(
        False,
        description="regression: learn targets standardised with the training split's mean/std "
        "(per column/channel); metrics and predictions stay in the original units.",
    )
    heads: dict[str, HeadConfig] = Field(
        {}, description="multitask: one head per target, {name: {type, num_classes, loss, weight, ...}}."
    )
    weighting: Literal["fixed", "uncertainty", "dwa"] = Field(
        "fixed", description="multitask: fixed head weights, learned uncertainty weights, or dwa."
    )
    dwa_temperature: float = Field(
        2.0, gt=0, description="multitask dwa: softmax temperature of the weights."
    )
    calibrate: Literal["auto", "none"] = Field(
        "none",
        description="auto: after fit, fit temperature scaling on the validation split (classification, "
        "when there is one), as `litrain calibrate RUN` does.",
    )
    loss_terms: LossTermsConfig | None = Field(
        None,
        description="regression of fields: {forward: 1.0, spectral: 0.1, rollout: {weight: 0.5, steps: 4}}.",
    )
    dt: float | None = Field(
        None, gt=0, description="rollout: time step; the model then gives du/dt and u <- u + dt * model(u)."
    )

    @model_validator(mode="after")
    def _loss_terms_need_regression(self) -> TaskConfig:
        if self.loss_terms is not None and self.type != "regression":
            raise rule_error(
                f"task.loss_terms apply to fields of task.type regression, not {self.type}: drop them"
            )
        if self.dt is not None and (self.loss_terms is None or self.loss_terms.rollout is None):
            raise rule_error("task.dt is the step of a rollout: set task.loss_terms.rollout or drop task.dt")
        return self

    @model_validator(mode="after")
    def _heads_need_multitask(self) -> TaskConfig:
        if self.type == "multitask" and not self.heads:
            raise rule_error("task.type=multitask needs task.heads: {<name>: {type: ...}} for each target")
        if self.heads and self.type != "multitask":
            raise rule_error(
                f"task.heads is set but task.type={self.type}: set task.type multitask or drop task.heads"
            )
        return self

    @model_validator(mode="after")
    def _imbalance_options(self) -> TaskConfig:
        check_imbalance_options(self, "task")
        if self.type == "multitask" and self.class_weights is not None:
            raise rule_error(
                "task.class_weights weighs one task's classes; a multi-task run weighs each head's: "
                "set task.heads.<name>.class_weights instead"
            )
        return self

    @model_validator(mode="after")
    def _pos_weight_needs_bce(self) -> TaskConfig:
        # ce (the multiclass default) has no positive class: the weight would be ignored.
        multiclass = self.type == "classification" and not self.multilabel
        loss = self.loss or ("ce" if multiclass else "bce")
        if self.pos_weight is not None and loss == "ce":
            if self.loss:
                why, fix = "task.loss=ce", "task.loss=ce"
            else:
                why, fix = (
                    f"task.type={self.type} (multiclass) trains with ce, which",
                    "set task.type binary or multilabel",
                )
            raise rule_error(
                f"task.pos_weight={self.pos_weight} weights the positive class of the bce loss, but "
                f"{why} has no positive class: drop task.pos_weight, or {fix}"
            )
        return self


class SchedulerConfig(Section):
    name: SchedulerName = Field("cosine", description="Learning-rate schedule.")
    warmup_epochs: float = Field(0, ge=0, description="Linear warmup length in epochs.")
    step_size: int = Field(10, gt=0, description="step: epochs between decays.")
    milestones: list[int] = Field([30, 60], description="multistep: epochs to decay at.")
    gamma: float = Field(0.1, gt=0, description="step/multistep/plateau: decay; exponential: per epoch.")
    patience: int = Field(3, ge=0, description="plateau: epochs without improvement.")
    monitor: str = Field("val/loss", description="plateau: metric to watch.")
    min_lr: float = Field(0.0, ge=0, description="cosine, cosine_restarts, linear, polynomial: final lr.")
    T_0: int = Field(10, gt=0, description="cosine_restarts: epochs of the first cosine cycle.")
    T_mult: int = Field(1, ge=1, description="cosine_restarts: factor by which each cycle grows.")
    power: float = Field(1.0, gt=0, description="polynomial: exponent of the decay to min_lr.")


class OptimConfig(Section):
    name: OptimizerName = Field("adamw", description="Optimizer.")
    lr: float | Literal["auto"] = Field(
        1e-3,
        description="Learning rate, or auto (LR finder).",
        json_schema_extra={"expects": "a positive number or 'auto'"},
    )
    weight_decay: float = Field(0.01, ge=0, description="Weight decay.")
    momentum: float = Field(0.9, ge=0, description="sgd: momentum.")
    nesterov: bool = Field(False, description="sgd: Nesterov momentum.")
    no_decay: list[Literal["bias", "norm"]] = Field(
        [], description="Parameters kept out of weight decay: bias (every bias), norm (norm-layer weights)."
    )
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)

    @field_validator("lr")
    @classmethod
    def _positive_lr(cls, v: float | str) -> float | str:
        if isinstance(v, float) and v <= 0:
            raise ValueError("must be a positive number or 'auto'")
        return v


class PruneConfig(Section):
    """Weight pruning while a model trains, usually a pipeline stage that starts from a trained
    run (docs/finetuning.md#pruning). Pruned weights are zeroed in place and kept at zero after
    every optimizer step, so checkpoints and exports hold the sparse weights under their usual
    names: the pruning is permanent from the start, with no mask tensors in the state dict."""

    amount: float = Field(
        0.0, ge=0, lt=1, description="Fraction of the prunable weights set to zero (0: no pruning)."
    )
    structured: Literal[False, "channels"] = Field(
        False,
        description="false: the smallest weights of all layers together (global L1); channels: the "
        "output channels of each layer with the smallest L2 norm.",
    )
    schedule: Literal["once", "gradual"] = Field(
        "once",
        description="once: all of amount at the first epoch; gradual: a cubic ramp to amount over "
        "ramp_epochs epochs, pruning more at each epoch's start.",
    )
    ramp_epochs: int = Field(2, gt=0, description="gradual: the epochs the ramp takes to reach amount.")

    @property
    def enabled(self) -> bool:
        return self.amount > 0


class FinetuneConfig(Section):
    """Backbone freezing and discriminative learning rates over the model's block groups
    (docs/finetuning.md). A frozen group stays in the optimizer with lr 0 and no update."""

    strategy: Literal["none", "head_only", "epochs", "gradual", "adaptive"] = Field(
        "none",
        description="none, head_only (backbone frozen), epochs (unfreeze at unfreeze_at_epoch), "
        "gradual (one group per every_epochs from the top), adaptive (on a plateau).",
    )
    unfreeze_at_epoch: int = Field(
        1, ge=0, description="epochs/gradual: the epoch (0-based) the backbone (first group) unfreezes."
    )
    every_epochs: int = Field(1, gt=0, description="gradual: epochs between two unfrozen groups.")
    adaptive_patience: int = Field(
        1, gt=0, description="adaptive: epochs without improvement before the next group unfreezes."
    )
    gradient_momentum: float = Field(
        0.9, ge=0, lt=1, description="adaptive: moving-average factor of each group's gradient norm."
    )
    monitor: str = Field("auto", description="adaptive: metric to watch (auto: the checkpoints' monitor).")
    mode: Literal["min", "max", "auto"] = Field(
        "auto", description="adaptive: min or max (auto: the task's for its monitor; else min for a loss)."
    )
    backbone_lr_ratio: float = Field(
        1.0, gt=0, description="The backbone's lr as a fraction of the head's (optim.lr)."
    )
    layer_decay: float = Field(
        1.0, gt=0, le=1, description="Each lower backbone group's lr times this factor."
    )
    train_bn: bool = Field(True, description="false: BatchNorm layers of frozen groups stay in eval mode.")
    prune: PruneConfig = Field(default_factory=PruneConfig)

    @property
    def active(self) -> bool:
        """Whether the optimizer needs one param group per block group."""
        return (
            self.strategy != "none"
            or self.backbone_lr_ratio != 1.0
            or self.layer_decay != 1.0
            or not self.train_bn
        )


class CallbackSpec(Section):
    class_path: str = Field(description="Import path of a Lightning Callback.")
    init_args: dict[str, Any] = Field({}, description="Keyword arguments.")


class FSDPConfig(Section):
    enabled: bool = Field(False, description="Shard the model with FSDP (same as strategy: fsdp).")
    sharding: Literal["full", "hybrid", "grad-op", "no-shard"] = Field(
        "full", description="full, hybrid (shard in a node, replicate across), grad-op, no-shard."
    )
    auto_wrap_min_params: int | None = Field(
        None, gt=0, description="Wrap every submodule with at least this many parameters."
    )
    auto_wrap_layers: list[str] = Field(
        [], description="Wrap every submodule of these class names (e.g. [BasicBlock])."
    )
    activation_checkpointing: list[str] = Field(
        [], description="Recompute activations of these layer class names in backward."
    )
    mixed_precision: Literal["none", "bf16", "fp16"] = Field(
        "none", description="Parameter/compute dtype of the shards; gradients reduce in fp32."
    )
    cpu_offload: bool = Field(False, description="Keep parameters and gradients in CPU memory (GPU).")
    state_dict: Literal["sharded", "full"] = Field(
        "sharded", description="Checkpoint format: sharded (one file per rank) or full (one file)."
    )


def ema_implied(section: Any) -> bool:
    """Whether a ``trainer.ema`` mapping turns EMA on by itself: it sets an EMA key
    (``--trainer.ema.decay 0.999``) and does not say ``enabled``."""
    return isinstance(section, dict) and "enabled" not in section and bool(section)


class EMAConfig(Section):
    """EMA of weights (docs/finetuning.md): setting any key turns it on."""

    enabled: bool = Field(False, description="Keep an EMA of the weights (on when any EMA key is set).")
    decay: float = Field(
        0.999, gt=0, lt=1, description="EMA decay per update: ema = decay*ema + (1-decay)*w."
    )
    warmup: bool = Field(
        True, description="Warm the decay up: min(decay, (1+t)/(10+t)), t = steps since start_step."
    )
    update_every: int = Field(1, gt=0, description="Update the EMA every N optimizer steps.")
    start_step: int = Field(0, ge=0, description="First optimizer step (0-based) that updates the EMA.")
    use_for_eval: bool = Field(
        True, description="Validate (and rank checkpoints), test and predict on the EMA weights."
    )
    export: Literal["ema", "raw"] = Field("ema", description="Weights litrain export writes: ema or raw.")

    @model_validator(mode="before")
    @classmethod
    def _implied(cls, data: Any) -> Any:
        return {**data, "enabled": True} if ema_implied(data) else data


class TrainerConfig(Section):
    max_epochs: int = Field(10, ge=-1, description="Epochs to train.")
    max_steps: int = Field(-1, ge=-1, description="Optimizer steps to train (-1: no limit).")
    max_time: str | None = Field(
        None,
        description="Wall-time limit: DD:HH:MM:SS, {hours: 2} or seconds (recorded as DD:HH:MM:SS).",
    )
    accelerator: str = Field("auto", description="auto, cpu, gpu, cuda, mps.")
    devices: int | str = Field("auto", description="Number of devices, or auto.")
    num_nodes: int = Field(1, gt=0, description="Number of nodes.")
    strategy: StrategyName = Field("auto", description="auto, ddp, ddp_spawn, fsdp, single_device.")
    precision: str = Field(
        "32-true", description="32-true, 16-mixed, bf16-mixed, bf16-true, auto (16/bf16/32 ok)."
    )
    accumulate_grad_batches: int = Field(1, gt=0, description="Batches per optimizer step.")
    global_batch_size: int | None = Field(
        None,
        gt=0,
        description="Samples per optimizer step over every device: sets accumulate_grad_batches so "
        "that batch_size x devices x accumulation equals it.",
    )
    gradient_clip_val: float | None = Field(None, gt=0, description="Clip gradients at this.")
    gradient_clip_algorithm: Literal["norm", "value"] = Field("norm", description="norm/value.")
    limit_train_batches: int | float | None = Field(None, gt=0, description="Batches (int) or fraction.")
    limit_val_batches: int | float | None = Field(None, ge=0, description="Batches (int) or fraction.")
    limit_test_batches: int | float | None = Field(None, gt=0, description="Batches (int) or fraction.")
    val_check_interval: int | float | None = Field(None, gt=0, description="Validate every N batches.")
    log_every_n_steps: int = Field(10, gt=0, description="Log training metrics every N steps.")
    fast_dev_run: bool = Field(False, description="One batch of train/val, no checkpoints.")
    profiler: Literal["simple", "advanced", "pytorch"] | None = Field(
        None, description="Profiler; report written to run_dir/profiler/."
    )
    compile: bool = Field(False, description="torch.compile the model (falls back to eager).")
    compile_mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = Field(
        "default", description="torch.compile mode (with trainer.compile)."
    )
    compile_dynamic: bool | None = Field(
        None, description="torch.compile dynamic shapes: true, false, or null (decide on recompile)."
    )
    callbacks: list[CallbackSpec] = Field([], description="Extra Lightning callbacks.")
    sync_batchnorm: bool = Field(False, description="Batch-norm statistics over all processes.")
    ddp_timeout: int = Field(
        1800, gt=0, description="Seconds a process waits for the others in a collective."
    )
    find_unused_parameters: bool = Field(False, description="DDP: allow parameters without grads.")
    static_graph: bool = Field(False, description="DDP: the graph is the same every step (faster).")
    process_group_backend: Literal["auto", "gloo", "nccl"] = Field(
        "auto", description="auto: nccl on GPUs, gloo on CPU."
    )
    fsdp: FSDPConfig = Field(default_factory=FSDPConfig)
    ema: EMAConfig = Field(default_factory=EMAConfig)
    nan_policy: Literal["stop", "skip", "rollback"] = Field(
        "stop",
        description="On a NaN/Inf loss or gradient: stop (with a debug checkpoint), "
        "skip the step, or rollback to the last checkpoint with a lower lr.",
    )
    nan_lr_factor: float = Field(0.5, gt=0, lt=1, description="rollback: lr multiplier per rollback.")
    oom_recovery: bool = Field(
        False, description="On out-of-memory: halve the micro-batch, double accumulation, go on."
    )
    preemption_signals: list[str] = Field(
        ["SIGTERM", "SIGUSR1"],
        description="Signals that save a checkpoint at the next step and exit 75 ([] to disable).",
    )
    channels_last: bool = Field(
        False, description="Conv nets: weights and 4-D input batches in channels_last memory format."
    )
    memory_cleanup_interval: int | None = Field(
        None, gt=0, description="Run gc (and empty the CUDA cache) every N optimizer steps."
    )

    @model_validator(mode="after")
    def _epochs_bounded(self) -> TrainerConfig:
        # -1 (no epoch limit) only with a step limit: otherwise nothing ends the run and the
        # schedule's length is infinite
        if self.max_epochs == -1 and self.max_steps == -1:
            raise rule_error(
                "trainer.max_epochs must be 1 or more, got -1 (no limit needs trainer.max_steps): "
                "to train until a time limit, set a large max_epochs and trainer.max_time"
            )
        return self

    @model_validator(mode="after")
    def _ema_not_sharded(self) -> TrainerConfig:
        if self.ema.enabled and (self.strategy == "fsdp" or self.fsdp.enabled):
            # Lightning's AveragedModel copies the whole unsharded module on every rank
            raise rule_error(
                "trainer.ema does not work with FSDP (the EMA would be a full unsharded copy "
                "on every rank): drop trainer.ema or use trainer.strategy=ddp"
            )
        return self

    @field_validator("max_time", mode="before")
    @classmethod
    def _max_time(cls, v: Any) -> str | None:
        return canonical_max_time(v)  # both engines then read one form

    @field_validator("preemption_signals")
    @classmethod
    def _signals(cls, v: list[str]) -> list[str]:
        parse_signals(v)  # ValueError names the bad one
        return v

    @field_validator("precision", mode="before")
    @classmethod
    def _canonical_precision(cls, v: object) -> str:
        short = {"16": "16-mixed", "bf16": "bf16-mixed", "32": "32-true", "64": "64-true"}
        v = short.get(str(v), str(v))
        allowed = {"32-true", "16-mixed", "bf16-mixed", "bf16-true", "16-true", "64-true", "auto"}
        if v not in allowed:
            raise ValueError(f"must be one of {sorted(allowed)} (or 16, bf16, 32)")
        return v

    @field_validator("devices")
    @classmethod
    def _devices(cls, v: int | str) -> int | str:
        if isinstance(v, str) and v != "auto":
            if v.isdigit():
                return int(v)
            raise ValueError("must be a positive number or 'auto'")
        if isinstance(v, int) and v < 1:
            raise ValueError("must be >= 1")
        return v


class CheckpointConfig(Section):
    monitor: str | None = Field(
        "auto",
        description="Metric that ranks checkpoints (auto: the task's, e.g. val/acc for "
        "classification; null: keep the newest only).",
    )
    mode: Literal["min", "max", "auto"] = Field(
        "auto",
        description="min or max of the monitor (auto: the task's; for another monitor min for a loss or a metric where lower is better).",
    )
    save_top_k: int = Field(1, ge=-1, description="Best checkpoints to keep (-1: all).")
    save_last: bool = Field(True, description="Also keep last.ckpt.")
    every_n_epochs: int = Field(1, ge=0, description="Save every N epochs.")
    every_n_steps: int | None = Field(
        None, gt=0, description="Also write last.ckpt every N optimizer steps (mid-epoch resume)."
    )
    dir: str | None = Field(
        None, description="Checkpoint directory (default run_dir/checkpoints).", json_schema_extra=PATH
    )
    filename: str | None = Field(
        None,
        description="Top-k file name template: {epoch}, {step}, {stage} and metric names, e.g. "
        "{stage}-epoch={epoch:02d}-{val/acc:.4f} (null: epoch=NN-<monitor>=V).",
    )

    keep_every_n_epochs: int | None = Field(
        None,
        gt=0,
        description="Also keep epoch=NN-periodic.ckpt every N epochs (never pruned by top-k).",
    )

    @field_validator("filename", mode="before")
    @classmethod
    def _one_field_flag(cls, v: Any) -> Any:
        # a flag's value is read as YAML, where "{epoch}" alone is the mapping {epoch: null}
        if isinstance(v, dict) and len(v) == 1 and next(iter(v.values())) is None:
            return "{" + str(next(iter(v))) + "}"
        return v

    @model_validator(mode="after")
    def _filename_template(self) -> CheckpointConfig:
        if self.filename is not None:
            monitor = None if self.monitor == "auto" else self.monitor
            try:
                check_template(self.filename, monitor)
            except ValueError as exc:
                raise rule_error(f"checkpoint.filename={self.filename!r} {exc}") from None
        return self


class EarlyStoppingConfig(Section):
    enabled: bool = Field(False, description="Stop when the monitor stops improving.")
    monitor: str = Field(
        "auto",
        description="Metric to watch (auto: the task's, the one checkpoints rank by default: "
        "val/acc for classification, val/loss for regression, val/mean_acc for multitask).",
    )
    mode: Literal["min", "max", "auto"] = Field(
        "auto", description="min or max (auto: the task's for its monitor; else min for a loss)."
    )
    patience: int = Field(5, ge=0, description="Validation rounds without improvement.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts.")


def wandb_implied(section: Any) -> bool:
    """Whether a ``logging.wandb`` mapping turns W&B on by itself: it sets a W&B field
    (``--wandb-project X``, ``name``, ``mode: online``, ...) and does not say ``enabled``.
    ``mode: disabled`` and empty values (null, [], false) turn nothing on."""
    if not isinstance(section, dict) or "enabled" in section:
        return False
    return any(
        value not in (None, False, [], "") and not (key == "mode" and value == "disabled")
        for key, value in section.items()
    )


class WandbConfig(Section):
    """Setting any field (project, name, entity, tags, log_model, mode) turns W&B on, offline
    unless ``mode: online``; ``enabled: false`` keeps it off."""

    enabled: bool = Field(False, description="Log to Weights & Biases (on when any W&B key is set).")
    project: str | None = Field(None, description="W&B project.")
    entity: str | None = Field(None, description="W&B entity.")
    name: str | None = Field(None, description="W&B run name (default run.name).")
    tags: list[str] = Field([], description="W&B tags.")
    log_model: bool = Field(False, description="Upload checkpoints as artifacts.")
    mode: Literal["offline", "online", "disabled"] = Field("offline", description="W&B mode.")

    @model_validator(mode="before")
    @classmethod
    def _implied(cls, data: Any) -> Any:
        return {**data, "enabled": True} if wandb_implied(data) else data


# the fields that turn MLflow on by themselves (``--mlflow-uri X`` alone logs there)
_MLFLOW_IMPLYING = ("tracking_uri", "experiment", "run_name", "tags", "offline")


class MlflowConfig(Section):
    """``logging.mlflow: true`` logs to ``sqlite:///<runs root>/mlflow.db``; setting
    ``tracking_uri``, ``experiment``, ``run_name``, ``tags`` or ``offline`` turns it on too,
    ``enabled: false`` keeps it off. Only rank 0 logs; one MLflow run per litrain run."""

    enabled: bool = Field(False, description="Log to MLflow (on when a tracking key is set).")
    tracking_uri: str | None = Field(
        None,
        description="http(s)://host:port of an MLflow server, or sqlite:///FILE (null: sqlite in the runs root).",
    )
    experiment: str | None = Field(None, description="MLflow experiment (default run.name).")
    run_name: str | None = Field(None, description="MLflow run name (default the run dir's name).")
    tags: dict[str, str] = Field({}, description="Extra tags of the MLflow run.")
    log_checkpoints: Literal["best", "all", "none"] = Field(
        "best", description="Checkpoints kept as artifacts at the end: best, all (best and last), none."
    )
    asynchronous: bool = Field(
        True, description="Send metrics from a background thread in batches (key 'async' too)."
    )
    offline: bool = Field(
        False,
        description="Write to a local spool (run_dir/logs/mlflow_spool.jsonl), replayed by `litrain runs sync`.",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, bool) or data is None:  # logging.mlflow: true
            return {"enabled": bool(data)}
        if isinstance(data, str) and data.lower() in ("true", "false"):
            return {"enabled": data.lower() == "true"}
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "async" in data:  # the key; a Python keyword, stored as asynchronous
            data["asynchronous"] = data.pop("async")
        if "enabled" not in data and any(
            data.get(k) not in (None, False, [], {}, "") for k in _MLFLOW_IMPLYING
        ):
            data["enabled"] = True
        return data


class LoggingConfig(Section):
    csv: bool = Field(True, description="CSV logger (run_dir/logs/metrics.csv).")
    tensorboard: bool = Field(False, description="TensorBoard logger (run_dir/logs/tensorboard).")
    wandb: WandbConfig = Field(default_factory=WandbConfig)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    train_metrics: bool = Field(
        False,
        description="Also log the task's metrics on training batches (train/acc, ... per step "
        "and per epoch); costs one metric update per step.",
    )
    grad_norm: float | None = Field(
        None,
        gt=0,
        description="Log the gradient norm of this order (2, 1, inf), total and per top-level "
        "module (train/grad_norm, train/grad_norm/<module>); null: off.",
    )
    memory: bool = Field(
        False, description="Log process RSS and, on CUDA, allocated/peak device memory (MB)."
    )
    throughput: bool = Field(False, description="Log training samples per second.")
    report: bool = Field(
        True,
        description="Write report.html (one offline page: summary, curves, confusion matrix, ...) "
        "in the run dir at the end of the fit; `litrain report RUN` writes it on demand.",
    )


# A stage name is a directory name (<run_dir>/<name>): no '/', no leading '.'.
STAGE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# The sections a stage may override (merged into the top-level config: config.load).
STAGE_SECTIONS = (
    "run",
    "data",
    "model",
    "task",
    "optim",
    "trainer",
    "checkpoint",
    "early_stopping",
    "logging",
    "finetune",
)


class InitFromConfig(Section):
    stage: str = Field(description="The earlier stage whose model weights this stage starts from.")
    checkpoint: Literal["best", "last"] = Field("best", description="That stage's best or last checkpoint.")
    strict: bool = Field(
        True, description="Every weight must fit (false: load those that fit, report the others)."
    )


def _overrides(section: str) -> Any:
    return Field({}, description=f"This stage's {section} keys (over the top-level {section}).")


class StageConfig(Section):
    """One stage of a pipeline: a name, where its weights start from, and the keys it changes.
    The overrides are checked key by key against the whole schema by ``config.load``."""

    name: str = Field(description="Stage name; its run dir is <run_dir>/<name>.")
    init_from: InitFromConfig | None = Field(None, description="Start from an earlier stage's weights.")
    run: dict[str, Any] = _overrides("run")
    data: dict[str, Any] = _overrides("data")
    model: dict[str, Any] = _overrides("model")
    task: dict[str, Any] = _overrides("task")
    optim: dict[str, Any] = _overrides("optim")
    trainer: dict[str, Any] = _overrides("trainer")
    checkpoint: dict[str, Any] = _overrides("checkpoint")
    early_stopping: dict[str, Any] = _overrides("early_stopping")
    logging: dict[str, Any] = _overrides("logging")
    finetune: dict[str, Any] = _overrides("finetune")

    def overrides(self) -> dict[str, Any]:
        """The sections this stage changes, as a config tree."""
        return {s: getattr(self, s) for s in STAGE_SECTIONS if getattr(self, s)}


def check_stages(stages: list[StageConfig]) -> None:
    """Names unique and usable as directory names; init_from names an earlier stage; no
    stage sets run.dir (a stage runs in <run_dir>/<name>). Every broken rule is reported,
    one line each (config.explain splits the lines)."""
    seen: dict[str, int] = {}
    names = [s.name for s in stages]
    problems: list[str] = []
    for i, st in enumerate(stages):
        if not STAGE_NAME.fullmatch(st.name):
            problems.append(
                f"stages[{i}].name={st.name!r} must be a directory name: letters, digits, '_', "
                "'-' and '.' (not first)"
            )
        if st.name in seen:
            problems.append(
                f"stages[{seen[st.name]}] and stages[{i}] are both named {st.name!r}: give each "
                "stage its own name"
            )
        seen.setdefault(st.name, i)
        if "dir" in st.run:
            problems.append(
                f"stages[{i}].run.dir: a stage runs in <run_dir>/{st.name}; set run.dir at the top level"
            )
        source = st.init_from.stage if st.init_from else None
        if source is not None and source not in seen:
            where = (
                f"a later stage (stages[{names.index(source)}])"
                if source in names
                else f"not a stage (stages: {', '.join(names)})"
            )
            earlier = ", ".join(names[:i]) or "none"
            problems.append(
                f"stages[{i}].init_from.stage={source} is {where}: a stage starts from an earlier "
                f"one (earlier: {earlier})"
            )
    if problems:
        raise rule_error("\n".join(problems))


# finetune keys and the strategies that read them (the rest read them in any strategy)
_FINETUNE_KEY_USERS: dict[str, tuple[str, ...]] = {
    "unfreeze_at_epoch": ("epochs", "gradual"),
    "every_epochs": ("gradual",),
    "adaptive_patience": ("adaptive",),
    "gradient_momentum": ("adaptive",),
    # (monitor and mode are left out: a run fills in their `auto` whatever the strategy)
    "train_bn": ("head_only", "epochs", "gradual", "adaptive"),  # only frozen groups' BatchNorm
}


def check_finetune(ft: FinetuneConfig, max_epochs: int) -> None:
    """Settings that would do nothing are errors: a key the strategy never reads (set to
    other than its default) and an unfreeze epoch the run never reaches."""
    for key, users in _FINETUNE_KEY_USERS.items():
        value = getattr(ft, key)
        if ft.strategy not in users and value != FinetuneConfig.model_fields[key].default:
            raise rule_error(
                f"finetune.{key}={_shown(value)} does nothing with finetune.strategy={ft.strategy}: it is "
                f"read by strategy {' or '.join(users)}; set that strategy or drop the key"
            )
    if ft.strategy in ("epochs", "gradual") and 0 <= max_epochs <= ft.unfreeze_at_epoch:
        raise rule_error(
            f"finetune.unfreeze_at_epoch={ft.unfreeze_at_epoch} is never reached: trainer.max_epochs="
            f"{max_epochs} runs epochs 0 to {max_epochs - 1}; lower finetune.unfreeze_at_epoch or "
            "raise --epochs"
        )


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def check_augment_class_head(data: DataConfig, task: TaskConfig) -> None:
    """``data.augment_class_head`` names the one-label head of a multi-task run whose labels
    class-aware augmentation strength goes by."""
    head = data.augment_class_head
    if head is None:
        if task.type == "multitask" and data.augment_class_strength is not None:
            labelled = sorted(n for n, h in task.heads.items() if h.type in ("classification", "binary"))
            raise rule_error(
                "data.augment_class_strength with task.type=multitask needs data.augment_class_head, the "
                f"head whose labels set each sample's strength: choose one of {labelled or 'none (add one)'}"
            )
        return
    if task.type != "multitask":
        raise rule_error(
            f"data.augment_class_head={head} picks a head of task.type=multitask, but task.type="
            f"{task.type}: drop data.augment_class_head"
        )
    if data.augment_class_strength is None:
        raise rule_error(
            f"data.augment_class_head={head} chooses the labels of data.augment_class_strength, which "
            "is not set: set it (auto or one multiplier per class) or drop data.augment_class_head"
        )
    labelled = sorted(n for n, h in task.heads.items() if h.type in ("classification", "binary"))
    if head not in labelled:
        raise rule_error(
            f"data.augment_class_head={head} is not a classification or binary head: choose one of "
            f"{labelled or 'none (add one)'}"
        )


def check_sampler_head(data: DataConfig, task: TaskConfig) -> None:
    """``data.sampler_head`` names a single-label head of a multi-task run that draws by class."""
    head, sampler = data.sampler_head, data.sampler
    if task.type != "multitask":
        if head is not None:
            raise rule_error(
                f"data.sampler_head={head} picks a head of task.type=multitask, but task.type="
                f"{task.type}: drop data.sampler_head"
            )
        return
    labelled = sorted(n for n, h in task.heads.items() if h.type in ("classification", "binary"))
    if sampler == "random":
        if head is not None:
            raise rule_error(
                f"data.sampler_head={head} drives a class-balancing sampler, but data.sampler=random: "
                "set data.sampler balanced or progressive, or drop data.sampler_head"
            )
        return
    if head is None or head not in labelled:
        what = "is not set" if head is None else f"={head} is not a classification or binary head"
        raise rule_error(
            f"data.sampler={sampler} with task.type=multitask needs data.sampler_head, the head whose "
            f"labels drive it; data.sampler_head{' ' if head is None else ''}{what}: choose one of "
            f"{labelled or 'none (add one)'}"
        )


class Config(Section):
    run: RunConfig = Field(default_factory=RunConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    task: TaskConfig = Field(default_factory=TaskConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    trainer: TrainerConfig = Field(default_factory=TrainerConfig)
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    finetune: FinetuneConfig = Field(default_factory=FinetuneConfig)
    stages: list[StageConfig] = Field(
        [], description="Pipeline stages, run in order by `litrain pipeline` (docs/pipelines.md)."
    )
    sweep: dict[str, Any] | None = Field(
        None, description="The search of `litrain sweep` (docs/sweeps.md); a fit ignores it."
    )

    @model_validator(mode="after")
    def _rules(self) -> Config:
        """The rules across sections. Every broken one is reported, one line each, in one run
        (a user fixing a config should not meet its errors one at a time)."""
        problems: list[str] = []
        for rule in (
            lambda: check_stages(self.stages),
            lambda: check_sampler_head(self.data, self.task),
            lambda: check_augment_class_head(self.data, self.task),
            self._train_metrics_need_whole_batches,
            self._muon_splits_itself,
            lambda: check_finetune(self.finetune, self.trainer.max_epochs),
            self._finetune_without_fsdp,
            self._pruning_without_ema,
        ):
            try:
                rule()
            except PydanticCustomError as exc:
                if exc.type != RULE:
                    raise
                problems.append(exc.message())
        if problems:
            raise rule_error("\n".join(problems))
        return self

    def _pruning_without_ema(self) -> None:
        if not self.finetune.prune.enabled:
            return
        if self.trainer.ema.enabled:  # the averaged weights would hold the pruned ones again
            raise rule_error(
                "finetune.prune and trainer.ema cannot be combined: the EMA weights would not be "
                "sparse; drop one of them"
            )
        if self.trainer.fsdp.enabled or self.trainer.strategy == "fsdp":  # flat sharded parameters
            raise rule_error("finetune.prune needs whole layers: train without FSDP (DDP works)")

    def _train_metrics_need_whole_batches(self) -> None:
        if self.logging.train_metrics and self.trainer.oom_recovery:
            # OOM recovery splits a batch into micro-batches the metrics would not see whole
            raise rule_error(
                "logging.train_metrics and trainer.oom_recovery cannot be combined: drop one of them"
            )

    def _muon_splits_itself(self) -> None:
        if self.optim.name == "muon" and (self.finetune.active or self.optim.no_decay):
            # muon groups the parameters by shape (optim/muon.py), not by block
            raise rule_error(
                "optim.name=muon makes its own parameter groups: finetune and optim.no_decay "
                "work with sgd, adam, adamw, radam, nadam, rmsprop or adagrad"
            )

    def _finetune_without_fsdp(self) -> None:
        if self.finetune.active and (self.trainer.fsdp.enabled or self.trainer.strategy == "fsdp"):
            # FSDP trains flattened shards: the block groups' parameters are not the optimizer's
            raise rule_error(
                "finetune works with single-device and DDP training, not FSDP: use trainer.strategy=ddp "
                "or drop the finetune keys"
            )

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def save(self, path: str | Path) -> None:
        """Write YAML that reads back the same from anywhere (:meth:`saved_dict`)."""
        Path(path).write_text(self.to_yaml())

    def to_yaml(self) -> str:
        """What :meth:`save` writes (a run writes it atomically: ``run.report.write_config``)."""
        return yaml.safe_dump(self.saved_dict(), sort_keys=False)

    def saved_dict(self) -> dict[str, Any]:
        """What :meth:`save` writes: a relative path key made absolute against the working
        directory (which it meant), since a YAML file's relative paths are read relative to
        that file."""
        tree = self.to_dict()
        for key in path_keys():
            *sections, leaf = key.split(".")
            node = tree
            for part in sections:
                node = node[part]
            value = node.get(leaf)
            if isinstance(value, str) and is_local_relative(value):
                node[leaf] = str(Path(value).absolute())
        return tree


def path_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    """The dotted keys marked ``PATH`` (files and directories)."""
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(path_keys(ann, f"{prefix}{name}."))
        elif isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("path"):
            out.append(f"{prefix}{name}")
    return out


def is_local_relative(value: str) -> bool:
    """A relative local path: not absolute, not ``~/...``, not a URL (``s3://``, ``http://``)."""
    return bool(value) and "://" not in value and not value.startswith("~") and not Path(value).is_absolute()
