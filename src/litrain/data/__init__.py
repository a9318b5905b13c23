"""Data: sources, splits, transforms, samplers and the DataModule.

This file only registers names (no torch import), so listing them stays instant; each entry
is imported on lookup."""

from litrain.registry import AUGMENTS, DATASETS, SAMPLERS

# Data sources: one function (DataConfig -> SourceData) each, in litrain/data/sources.py.
for _name in (
    "digits",
    "mnist",
    "fashion_mnist",
    "cifar10",
    "cifar100",
    "imagefolder",
    "arrays",
    "synthetic",
):
    DATASETS.register(_name, f"litrain.data.sources:{_name}")
# Procedural PDE fields (1-D Burgers/heat/advection, 2-D Darcy), generated and cached.
DATASETS.register("pde", "litrain.data.pde:pde")
# Video clips (memory-mapped arrays, decoded files) and annotated multi-view images.
DATASETS.register("video_arrays", "litrain.data.video:video_arrays")
DATASETS.register("video_files", "litrain.data.video:video_files")
DATASETS.register("image_annotations", "litrain.data.annotated_images:image_annotations")
# WebDataset-style tar shards, local or remote (litrain/data/shards/).
DATASETS.register("shards", "litrain.data.shards.source:shards")

# Train augmentation presets (data.augment): a Preset (litrain.data.augment) each, which
# builds the per-sample transforms and, for flip/crop/jitter ones, the whole-batch one.
for _name in (
    "none",
    "flip",
    "crop",
    "light",
    "medium",
    "aggressive",
    "randaugment",
    "trivialaugment",
    "autoaugment",
    "augmix",
):
    AUGMENTS.register(_name, f"litrain.data.augment:{_name.upper()}")

# Train samplers (data.sampler): (n, seed, with_epoch, labels, progressive_epochs) -> a
# sampler with set_epoch and order(epoch); balanced/progressive draw by class.
for _name in ("random", "balanced", "progressive"):
    SAMPLERS.register(_name, f"litrain.data.samplers:{_name}")

del _name
