"""``data.source: shards``: WebDataset-style tar shards, or LitData dirs
(``litdata_read.py``), as a litrain data source.

``data.train_urls`` is required; ``val_urls`` and ``test_urls`` are optional and there is no
``val_split`` of streamed shards (a held-out split would have to be read and set aside every
epoch): without ``val_urls`` a run has no validation, without ``test_urls`` test reads the
validation shards. The first training image fixes the channels and, without
``data.image_size``, the image size; normalization statistics come from the first 256
training samples of the first shard (in the unshuffled order).
"""

from __future__ import annotations

import torch

from litrain.config import DataConfig
from litrain.data.augment import preset_named
from litrain.data.base import DataInfo, SourceData
from litrain.data.shards.cache import ShardCache
from litrain.data.shards.catalog import ShardSet, open_shards, shard_table
from litrain.data.shards.litdata_read import (
    LitDataDataset,
    LitDataSet,
    litdata_classes,
    litdata_dir,
    open_litdata,
)
from litrain.data.shards.read import ReadSpec, ShardDataset
from litrain.data.shards.urls import expand
from litrain.data.transforms import channel_stats
from litrain.errors import DataError

STATS_SAMPLES = 256


def _probe(
    shards: ShardSet, cache: ShardCache, cfg: DataConfig, n: int, channels: int | None = None
) -> tuple[list[torch.Tensor], list]:
    """Up to ``n`` decoded samples from the start of the first shard."""
    skip = cfg.on_bad_sample == "skip"
    spec = ReadSpec(batch_size=n, train=False, skip_bad=skip, channels=channels, image_size=cfg.image_size)
    if isinstance(shards, LitDataSet):
        ds: ShardDataset = LitDataDataset(shards, spec, cache)
        raws = ds.head(n)  # type: ignore[attr-defined]
    else:
        ds = ShardDataset(shards, spec, cache)
        table = shard_table(shards, 0, cache, strict=not spec.skip_bad)
        from litrain.data.shards.partition import Piece

        raws = (raw for _, raw in ds._raw([Piece(0, 0, min(n, len(table)))]))
    xs, ys = [], []
    for raw in raws:
        sample = ds._sample(*raw)
        if sample is not None:
            xs.append(sample[0])
            ys.append(sample[1])
            ds.spec.channels = ds.spec.channels or int(sample[0].shape[0])
    if not xs:
        raise DataError(f"shard {shards.urls[0]}: no readable sample in its first {n}: check the shard")
    return xs, ys


def _classes(shards: ShardSet, cache: ShardCache, strict: bool) -> list[str]:
    if shards.index and shards.index.get("class_names"):
        return [str(c) for c in shards.index["class_names"]]
    if isinstance(shards, LitDataSet):
        return litdata_classes(shards)
    top = -1  # no class list: the largest label over every shard (tables are cached)
    for i, url in enumerate(shards.urls):
        table = shard_table(shards, i, cache, strict)
        path = cache.local(url, shards.sha256[i])
        with open(path, "rb") as f:
            for members in table.members:
                if shards.label in members:
                    off, size = members[shards.label]
                    f.seek(off)
                    text = f.read(size).decode().strip()
                    try:
                        top = max(top, int(text))
                    except ValueError:
                        raise DataError(
                            f"shard {url}: a .cls member holds {text!r}, not a class index: write "
                            "integer class indices"
                        ) from None
    return [str(i) for i in range(top + 1)]


def shards(cfg: DataConfig) -> SourceData:
    if not cfg.train_urls:
        raise DataError(
            "data.source=shards reads tar shards: set data.train_urls (e.g. 'shards/train-{000000..000009}.tar')"
        )
    cache = ShardCache(cfg.cache_dir, cfg.cache_limit_gb, cfg.storage_options)
    skip = cfg.on_bad_sample == "skip"

    def open_split(key: str) -> ShardSet | None:
        """A LitData dir, or tar shards (None: the key is unset)."""
        where = litdata_dir(getattr(cfg, key), key, cache.storage_options)
        if where is not None:
            return open_litdata(where, key, cache)
        urls = expand(getattr(cfg, key), key)
        return open_shards(urls, key, cache, not skip) if urls else None

    train = open_split("train_urls")
    assert train is not None
    xs, ys = _probe(train, cache, cfg, STATS_SAMPLES)
    if xs[0].dtype == torch.uint8 and xs[0].shape[0] not in (1, 3):  # RGBA, CMYK: read as RGB
        xs, ys = _probe(train, cache, cfg, STATS_SAMPLES, channels=3)
    first = xs[0]
    shape = tuple(first.shape)
    if cfg.image_size is None and any(tuple(x.shape) != shape for x in xs):
        odd = next(tuple(x.shape) for x in xs if tuple(x.shape) != shape)
        raise DataError(
            f"shards in {cfg.train_urls!r} hold images of different sizes ({shape} and {odd}, as "
            "channels, height, width): set data.image_size to resize every image to one size"
        )
    heads = None
    if train.label == "json":
        target = ys[0]
        if not isinstance(target, dict):
            raise DataError(f"shard {train.urls[0]}: a .json target must be an object of named targets")
        heads = {k: len(v) if isinstance(v, list) else 1 for k, v in target.items()}
        classes: list[str] = []
        info = DataInfo(
            shape, 0, [], is_image=first.dtype == torch.uint8, float_targets=True, head_columns=heads
        )
    else:
        classes = _classes(train, cache, not skip)
        info = DataInfo(shape, len(classes), classes, is_image=first.dtype == torch.uint8)

    def dataset(shard_set: ShardSet | None, is_train: bool) -> ShardDataset:
        spec = ReadSpec(
            batch_size=cfg.batch_size,
            train=is_train,
            shuffle_buffer=cfg.shuffle_buffer,
            skip_bad=skip,
            channels=int(shape[0]),
            shape=shape,
            image_size=cfg.image_size,
            heads=heads,
        )
        if isinstance(shard_set, LitDataSet):
            return LitDataDataset(shard_set, spec, cache)
        empty = ShardSet([], [], [], key="val_urls")
        return ShardDataset(shard_set if shard_set is not None else empty, spec, cache)

    val, test = open_split("val_urls"), open_split("test_urls")
    sets = [dataset(train, True), dataset(val, False)]
    sets.append(dataset(test, False) if test is not None else sets[1])
    if cfg.normalize:
        batch = torch.stack(xs).float()
        mean, std = channel_stats(batch / 255.0 if first.dtype == torch.uint8 else batch)
        for ds in sets:
            ds.mean, ds.std = mean, std
    # pixel ops before normalization, flip/crop after (as the DataModule); augment_device=device:
    # none here, the DataModule's DeviceAugment does them on the batch
    if info.is_image and cfg.augment_device != "device":
        preset = preset_named(cfg.augment)
        sets[0].pixel_augment = preset.pixel(cfg.augment_strength)
        sets[0].augment = preset.geometric(cfg.augment_strength)
    return SourceData(train=sets[0], info=info, val=sets[1], test=sets[2])
