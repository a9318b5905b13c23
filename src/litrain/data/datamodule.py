"""The DataModule: turns a source into seeded train/val/test splits and DataLoaders.

It is a plain class with the LightningDataModule hooks (``setup``, ``*_dataloader``) rather
than a subclass, so the native engine uses the very same object without importing
Lightning; the Lightning engine passes its loaders to ``Trainer.fit``.
"""

from __future__ import annotations

import warnings

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset
from torchdata.stateful_dataloader import StatefulDataLoader

from litrain.config import DataConfig, TaskConfig
from litrain.data.augment import layout_of, preset_named, stage
from litrain.data.balance import augment_head_column, record_class_counts, sampler_labels
from litrain.data.base import DataInfo, SourceData, Split, split_len
from litrain.data.batch_augment import DeviceAugment
from litrain.data.class_strength import class_multipliers
from litrain.data.inmemory import InMemoryLoader, in_memory_loader
from litrain.data.samplers import EpochShuffleSampler
from litrain.data.splits import Chain, Normalize, SplitDataset
from litrain.data.targets import target_stats
from litrain.data.transforms import Transform, channel_stats, resize_images
from litrain.errors import ConfigError, DataError
from litrain.registry import DATASETS, SAMPLERS


def _labels(split: Split) -> torch.Tensor:
    return split[1] if isinstance(split, tuple) else split.targets  # type: ignore[union-attr]


def _train_labels(split: Split, idx: torch.Tensor) -> torch.Tensor | None:
    """The training split's targets, or None for a Dataset that does not list them."""
    if not isinstance(split, tuple) and not hasattr(split, "targets"):
        return None
    return torch.as_tensor(_labels(split))[idx]


class DataModule:
    def __init__(self, cfg: DataConfig, task: TaskConfig | None = None, seed: int = 42) -> None:
        self.cfg, self.task, self.seed = cfg, task or TaskConfig(), seed
        self.info: DataInfo | None = None
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.test_set: Dataset | None = None
        # Where in-memory batches are sliced: the engine sets the training device here.
        self.loader_device: torch.device | str | None = None
        # The training split's class labels a weighted data.sampler draws by (else None).
        self.sampler_labels: torch.Tensor | None = None
        # data.augment_device=device: the train batch's augmentation, applied by the engines
        self.device_augment: DeviceAugment | None = None
        # data.augment_class_strength as applied (one multiplier per class), or None
        self.augment_multipliers: list[float] | None = None

    def prepare_data(self) -> None:  # the Lightning hook name; sources load in setup
        pass

    def setup(self, stage: str | None = None) -> None:
        if self.info is not None:
            return
        src: SourceData = DATASETS.get(self.cfg.source)(self.cfg)
        if isinstance(src.train, IterableDataset):  # streamed shards: splits come ready
            return self._setup_stream(src)
        if self.cfg.image_size and src.info.is_image:
            src = self._resize(src, self.cfg.image_size)
        self.info = src.info
        self._check_labels(src)
        split_seed = self.cfg.split_seed if self.cfg.split_seed is not None else self.seed
        gen = torch.Generator().manual_seed(split_seed)
        n = split_len(src.train)
        order = torch.randperm(n, generator=gen)
        n_val = 0 if src.val is not None else _held_out(n, self.cfg.val_split)
        n_test = 0 if src.test is not None else _held_out(n, self.cfg.test_split)
        val_idx, test_idx = order[:n_val], order[n_val : n_val + n_test]
        train_idx = order[n_val + n_test :]
        if len(train_idx) == 0:
            raise DataError(
                f"{self.cfg.source}: no training samples left after val_split="
                f"{self.cfg.val_split} and test_split={self.cfg.test_split} of {n}"
            )
        self._class_balance(src, train_idx)
        normalize = self._normalizer(src.train, train_idx)
        pixel, geometric = self._augment_stages(src, train_idx, normalize)
        if self.task.normalize_targets:  # training split only: nothing of val/test leaks in
            self.info.target_mean, self.info.target_std = target_stats(_labels(src.train)[train_idx])
        if normalize:
            self.info.input_mean, self.info.input_std = normalize
            train_tf: Transform | None = Normalize(*normalize, geometric, before=pixel)
        else:
            train_tf = Chain(pixel, geometric) if pixel and geometric else pixel or geometric
        eval_tf = Normalize(*normalize, None) if normalize else None
        self.train_set = SplitDataset(src.train, train_idx, train_tf, seed=self.seed)
        self.val_set = (
            _whole(src.val, eval_tf) if src.val is not None else SplitDataset(src.train, val_idx, eval_tf)
        )
        if src.test is not None:
            self.test_set = _whole(src.test, eval_tf)
        elif n_test:
            self.test_set = SplitDataset(src.train, test_idx, eval_tf)
        else:  # no held-out test data: test reports on the validation split
            self.test_set = self.val_set
        if self.cfg.batch_size > len(self.train_set):
            warnings.warn(
                f"data.batch_size={self.cfg.batch_size} exceeds the {len(self.train_set)} "
                "training samples: every epoch is one smaller batch",
                stacklevel=2,
            )

    def _class_balance(self, src: SourceData, train_idx: torch.Tensor) -> None:
        """The training split's class counts (for class weights) and sampler labels."""
        y = _train_labels(src.train, train_idx)
        assert self.info is not None
        if y is not None:
            record_class_counts(self.info, y)
        if self.cfg.sampler == "random":
            return
        if y is None:
            raise ConfigError(
                f"data.sampler={self.cfg.sampler} needs the training labels, but data.source="
                f"{self.cfg.source} does not list them (no .targets): set data.sampler random"
            )
        self.sampler_labels = sampler_labels(self.cfg, self.task, self.info, y)

    def _augment_stages(
        self, src: SourceData, train_idx: torch.Tensor, normalize: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[Transform | None, Transform | None]:
        """The per-sample (pixel, geometric) train stages of data.augment; with
        augment_device=device none, and ``self.device_augment`` does it on the batch."""
        c, info = self.cfg, src.info
        preset = preset_named(c.augment)
        active = (info.is_image or info.is_video) and not preset.empty and c.augment_strength > 0
        self._check_field_augment(active)
        if not active:
            return None, None
        one_label = not (info.multilabel or info.float_targets or info.head_columns)
        labels, classes, column = _train_labels(src.train, train_idx), info.num_classes, None
        if c.augment_class_head is not None and labels is not None:  # a multi-task head's labels
            column, classes = augment_head_column(c, info), info.head_classes[c.augment_class_head]
            labels, one_label = labels[:, column].long(), True
        multipliers = class_multipliers(c.augment_class_strength, labels, classes, one_label)
        self.augment_multipliers = multipliers  # what `auto` resolved to: config.yaml records it
        layout = layout_of(info.view_shape, info.views, info.is_video)
        if c.augment_device == "device":
            if not preset.batchable:
                raise ConfigError(
                    f"data.augment={c.augment} runs per sample only ({preset.policy}), "
                    "not on a batch: set data.augment_device cpu (or auto), or use a flip/crop/jitter "
                    "preset (light, medium, aggressive)"
                )
            mean, std = normalize if normalize else (None, None)
            strengths = torch.tensor(multipliers) if multipliers is not None else None
            self.device_augment = DeviceAugment(
                preset, c.augment_strength, mean, std, layout, c.augment_same_views, strengths, column
            )
            if preset.has_pixel_ops:
                self._check_pixel_range(src)
            return None, None
        if preset.has_pixel_ops:
            self._check_pixel_range(src)
        args = (c.augment_strength, layout, c.augment_same_views, multipliers, column)
        return stage(preset, "pixel", *args), stage(preset, "geometric", *args)

    def _check_pixel_range(self, src: SourceData) -> None:
        """Colour and policy ops work on pixel values: floats in [0, 1] or uint8."""
        if not isinstance(src.train, tuple) or src.train[0].dtype == torch.uint8:
            return  # file-backed sources decode to [0, 1] (or uint8)
        x = src.train[0]
        lo, hi = float(x.min()), float(x.max())
        if lo < 0 or hi > 1:
            raise ConfigError(
                f"data.augment={self.cfg.augment} applies colour ops to pixel values in [0, 1], but "
                f"data.source={self.cfg.source} gives values in [{lo:.3g}, {hi:.3g}]: use a "
                "flip/crop preset (flip, crop, light) or scale the inputs to [0, 1]"
            )

    def _setup_stream(self, src: SourceData) -> None:
        if self.cfg.sampler != "random":
            raise ConfigError(
                f"data.sampler={self.cfg.sampler} draws from a split held whole, but shards are "
                "streamed: set data.sampler random (or balance with task.class_weights)"
            )
        self.info = src.info
        self._check_labels_known(src.info)
        self.train_set, self.val_set, self.test_set = src.train, src.val, src.test
        for ds in (self.train_set, self.val_set, self.test_set):
            ds.seed = self.seed  # type: ignore[union-attr]
        c = self.cfg
        if c.augment_class_strength is not None:
            raise ConfigError(
                "data.augment_class_strength needs the training labels up front, which streamed "
                "shards do not give: drop data.augment_class_strength"
            )
        preset = preset_named(c.augment)
        if c.augment_device == "device" and src.info.is_image and not preset.empty and c.augment_strength > 0:
            if not preset.batchable:
                raise ConfigError(
                    f"data.augment={c.augment} runs per sample, not on a batch: set data.augment_device cpu"
                )
            ds = src.train
            self.device_augment = DeviceAugment(preset, c.augment_strength, ds.mean, ds.std)  # type: ignore[union-attr]

    def _check_labels_known(self, info: DataInfo) -> None:
        wanted = self.task.num_classes
        if info.num_classes and wanted is not None and info.num_classes > wanted:
            raise DataError(
                f"task.num_classes={wanted} but the shards have {info.num_classes} classes: "
                f"set task.num_classes to at least {info.num_classes}"
            )

    def _resize(self, src: SourceData, size: int) -> SourceData:
        for name in ("train", "val", "test"):
            split = getattr(src, name)
            if isinstance(split, tuple):
                setattr(src, name, (resize_images(split[0], size), split[1]))
        # the leading axes stay: (C,) of an image, (V, C) of multi-view images
        src.info.source_shape = src.info.source_shape or src.info.input_shape
        src.info.input_shape = (*src.info.input_shape[:-2], size, size)
        return src

    def _check_labels(self, src: SourceData) -> None:
        if src.info.multilabel or src.info.float_targets:
            return
        found = max(int(_labels(s).max()) + 1 for s in (src.train, src.val, src.test) if s is not None)
        wanted = self.task.num_classes
        if wanted is not None and found > wanted:
            raise DataError(
                f"task.num_classes={wanted} but the labels go up to {found - 1}: "
                f"set task.num_classes to at least {found}"
            )

    def _check_field_augment(self, augments: bool) -> None:
        info = self.info
        if augments and info is not None and info.float_targets and len(info.target_shape) >= 2:
            raise ConfigError(
                f"data.augment={self.cfg.augment} flips/crops the inputs but not the target "
                "fields, which would then no longer match: set data.augment none"
            )

    def _normalizer(self, train: Split, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        if not self.cfg.normalize:
            return None
        views = self.info.views if self.info is not None else 0
        if isinstance(train, tuple):
            return channel_stats(train[0][idx], views)
        # file-backed: stats from a fixed subset (a source of large samples, e.g. video
        # clips, caps it lower with a stats_samples attribute)
        sample = idx[: min(len(idx), getattr(train, "stats_samples", 256))]
        return channel_stats(torch.stack([train[int(i)][0] for i in sample]), views)

    def _note_unused_workers(self) -> None:
        """Once per data module: data.num_workers does nothing for in-memory batches."""
        if self.cfg.num_workers == 0 or getattr(self, "_workers_noted", False):
            return
        self._workers_noted = True
        why = (
            "data.in_memory=true"
            if self.cfg.in_memory == "true"
            else (
                f"data.in_memory=auto: the split fits in data.in_memory_max_gb={self.cfg.in_memory_max_gb:g}"
            )
        )
        warnings.warn(
            f"data.num_workers={self.cfg.num_workers} is unused: batches are served from memory "
            f"({why}) and need no worker processes; to load with workers (e.g. for "
            "per-sample transforms) set --data.in_memory false",
            stacklevel=3,
        )

    def _loader(self, ds: Dataset | None, shuffle: bool) -> DataLoader | InMemoryLoader:
        if ds is None:
            raise DataError("this split is empty")
        if isinstance(ds, IterableDataset):  # streamed shards: batches made by the dataset
            from litrain.data.shards.loader import shard_loader

            c = self.cfg
            return shard_loader(ds, c.num_workers, c.pin_memory, c.persistent_workers, self.seed)  # type: ignore[arg-type]
        max_bytes = int(self.cfg.in_memory_max_gb * 2**30)
        held = in_memory_loader(
            ds,
            self.cfg.in_memory,
            self.cfg.batch_size,
            shuffle,
            self.seed,
            self.loader_device,
            max_bytes,
            sampler=self._train_sampler(len(ds), with_epoch=False) if shuffle else None,  # type: ignore[arg-type]
        )
        if held is not None:
            self._note_unused_workers()
            return held
        workers = self.cfg.num_workers
        # The train loader keeps its position for mid-epoch resume (StatefulDataLoader, a
        # DataLoader subclass). Each loader gets its own generator for worker seeds, so
        # starting an epoch never draws from the global RNG that dropout uses.
        cls = StatefulDataLoader if shuffle else DataLoader
        return cls(
            ds,
            batch_size=self.cfg.batch_size,
            # SplitDataset reads (epoch, i) pairs to seed its per-sample augmentation
            sampler=self._train_sampler(len(ds), isinstance(ds, SplitDataset)) if shuffle else None,  # type: ignore[arg-type]
            num_workers=workers,
            pin_memory=self.cfg.pin_memory,
            persistent_workers=self.cfg.persistent_workers and workers > 0,
            generator=torch.Generator().manual_seed(self.seed),
        )

    def _train_sampler(self, n: int, with_epoch: bool) -> EpochShuffleSampler:
        """The train order, from SAMPLERS by data.sampler (a pure function of seed, epoch)."""
        factory = SAMPLERS.get(self.cfg.sampler)
        return factory(
            n,
            self.seed,
            with_epoch=with_epoch,
            labels=self.sampler_labels,
            progressive_epochs=self.cfg.progressive_epochs,
        )

    def train_dataloader(self) -> DataLoader | InMemoryLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader | InMemoryLoader:
        return self._loader(self.val_set, shuffle=False)

    @property
    def test_is_val(self) -> bool:
        """No held-out test data: ``test`` reports on the validation split."""
        return self.test_set is not None and self.test_set is self.val_set

    def test_dataloader(self) -> DataLoader | InMemoryLoader:
        return self._loader(self.test_set, shuffle=False)

    def predict_dataloader(self) -> DataLoader | InMemoryLoader:
        return self.test_dataloader()


def _held_out(n: int, fraction: float) -> int:
    """Samples a fraction holds out: at least one when asked for any, so a tiny data set
    still has a split for the checkpoint monitor to read."""
    return max(1, round(n * fraction)) if fraction > 0 else 0


def _whole(split: Split, tf: Transform | None) -> SplitDataset:
    return SplitDataset(split, torch.arange(split_len(split)), tf)


def build_datamodule(cfg: DataConfig, task: TaskConfig | None = None, seed: int = 42) -> DataModule:
    """The DataModule for ``cfg``; a ``class_path`` builds the user's own instead."""
    if cfg.class_path:
        from litrain.registry import import_object

        return import_object(cfg.class_path)(**cfg.init_args)
    return DataModule(cfg, task, seed)
