"""Augmentation presets (``data.augment``), built on torchvision.transforms.v2.

A preset is data: which geometric ops (flip, padded crop) and which pixel ops (colour
jitter, or one of torchvision's policies: RandAugment, TrivialAugmentWide, AutoAugment,
AugMix) it applies. From it come

- the per-sample CPU transforms (``per_sample``): the pixel ops run on the raw image (float
  in [0, 1] or uint8, what v2's colour and policy ops expect) before normalization, the
  flip/crop after it (padding then is the data's mean colour, as the in-memory loader's);
- the whole-batch device transform (``litrain.data.batch_augment``) of the presets made of
  flip, crop and colour jitter only (``batchable``).

``data.augment_strength`` scales every magnitude (jitter amounts, crop padding, the policies'
magnitude ranges); 0 is the identity. flip/crop/light at strength 1 are exactly the
original presets (``transforms.Augment``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from litrain.data.transforms import Augment, Transform
from litrain.registry import AUGMENTS

POLICIES = ("randaugment", "trivialaugment", "autoaugment", "augmix")


@dataclass(frozen=True)
class Preset:
    flip: bool = False
    crop: float = 0.0  # padding of the random crop in units of max(1, h // 8); 0: no crop
    jitter: tuple[float, float, float] = (0.0, 0.0, 0.0)  # brightness, contrast, saturation
    policy: str | None = None  # one of POLICIES: a per-sample torchvision policy

    @property
    def batchable(self) -> bool:
        """Whether the whole-batch device transform can apply it (flip, crop, jitter only)."""
        return self.policy is None

    @property
    def empty(self) -> bool:
        return not (self.flip or self.crop or any(self.jitter) or self.policy)

    @property
    def has_pixel_ops(self) -> bool:
        """Colour or policy ops, which need images in [0, 1] (or uint8)."""
        return self.policy is not None or any(self.jitter)

    def __call__(self, strength: float = 1.0) -> Transform | None:
        """The preset as one per-sample transform: its pixel ops, then flip/crop."""
        pixel, geometric = self.pixel(strength), self.geometric(strength)
        if pixel is None or geometric is None:
            return pixel or geometric
        return v2.Compose([pixel, geometric])

    def geometric(self, strength: float) -> Augment | None:
        """Flip and crop at ``strength`` (runs after normalization)."""
        if strength <= 0 or not (self.flip or self.crop):
            return None
        pad_scale = (self.crop or 1.0) * strength  # flip alone: the crop's scale is never read
        return Augment(self.flip, bool(self.crop), pad_scale, flip_prob=0.5 * min(strength, 1.0))

    def pixel(self, strength: float) -> Transform | None:
        """Colour jitter or the policy at ``strength`` (runs on the raw image)."""
        if strength <= 0:
            return None
        if self.policy is not None:
            return policy_transform(self.policy, strength)
        if any(self.jitter):
            b, c, s = (min(j * strength, 0.99) for j in self.jitter)
            return v2.ColorJitter(brightness=b or None, contrast=c or None, saturation=s or None)
        return None


class CustomPreset:
    """A preset registered as a plain ``() -> transform`` function (the registry's older
    form, still accepted): one per-sample transform after normalization; no strength, no
    batch form."""

    batchable, has_pixel_ops, policy = False, False, "custom"

    def __init__(self, factory: Any) -> None:
        self.factory = factory

    @property
    def empty(self) -> bool:
        return self.factory() is None

    def __call__(self, strength: float = 1.0) -> Transform | None:
        return self.factory() if strength > 0 else None

    def pixel(self, strength: float) -> Transform | None:
        return None

    geometric = __call__


def preset_named(name: str) -> Preset | CustomPreset:
    """The ``data.augment`` preset ``name`` from the registry."""
    entry = AUGMENTS.get(name)
    return entry if isinstance(entry, Preset) else CustomPreset(entry)


def build_augment(preset: str, is_image: bool, strength: float = 1.0) -> Transform | None:
    """The train transform of the ``data.augment`` preset as one per-sample transform (its
    pixel ops, then flip/crop); image presets skip non-images. The DataModule instead splits
    the two around normalization (``stage``)."""
    if not is_image:
        return None
    return preset_named(preset)(strength)


NONE = Preset()
FLIP = Preset(flip=True)
CROP = Preset(crop=1.0)
LIGHT = Preset(flip=True, crop=1.0)
MEDIUM = Preset(flip=True, crop=1.0, jitter=(0.2, 0.2, 0.2))
AGGRESSIVE = Preset(flip=True, crop=2.0, jitter=(0.4, 0.4, 0.4))
RANDAUGMENT = Preset(flip=True, crop=1.0, policy="randaugment")
TRIVIALAUGMENT = Preset(flip=True, crop=1.0, policy="trivialaugment")
AUTOAUGMENT = Preset(flip=True, crop=1.0, policy="autoaugment")
AUGMIX = Preset(flip=True, crop=1.0, policy="augmix")


def _scaled(name: str, fn: Any, strength: float, num_bins: int, height: int, width: int) -> Any:
    """One op's magnitude range scaled towards its identity by ``strength``."""
    m = fn(num_bins, height, width)
    if m is None:  # Identity, AutoContrast, Equalize: no magnitude
        return None
    if name == "Posterize":  # bits kept: 8 is the identity
        return (8 - (8 - m.float()) * strength).round().clamp(1, 8).int()
    if name == "Solarize":  # threshold: 1.0 (the top) is the identity
        return (1.0 - (1.0 - m) * strength).clamp(0.0, 1.0)
    if name in ("Brightness", "Color", "Contrast", "Sharpness"):  # factors 1 +- m stay > 0
        return (m * strength).clamp(max=0.99)
    return m * strength  # shear, translate, rotate: 0 is the identity


def _scale_space(tf: Any, attr: str, strength: float) -> None:
    space = getattr(tf, attr, None)
    if space is None:
        return
    scaled = {name: (partial(_scaled, name, fn, strength), signed) for name, (fn, signed) in space.items()}
    setattr(tf, attr, scaled)  # an instance attribute: the class's table stays as it is


def policy_transform(name: str, strength: float = 1.0) -> Transform:
    """torchvision's policy ``name`` with every op's magnitude range times ``strength``
    (RandAugment at its default magnitude 9 of 31 bins, AugMix at severity 3)."""
    tf: Any = {
        "randaugment": v2.RandAugment,
        "trivialaugment": v2.TrivialAugmentWide,
        "autoaugment": v2.AutoAugment,
        "augmix": v2.AugMix,
    }[name]()
    if strength != 1.0:
        _scale_space(tf, "_AUGMENTATION_SPACE", strength)
        _scale_space(tf, "_PARTIAL_AUGMENTATION_SPACE", strength)
    return tf


# ----------------------------------------------------------------- sample layouts
def layout_of(view_shape: tuple[int, ...], views: int, is_video: bool) -> str:
    """image (C, H, W), views (V, C, H, W), clip (C, T, H, W), view_clips (V, C, T, H, W)."""
    if is_video or len(view_shape) == 4:
        return "view_clips" if views else "clip"
    return "views" if views else "image"


class OnSample:
    """Applies an image transform to one sample of ``layout``: every frame of a clip gets the
    same random parameters (v2 shares them across leading dims of a (T, C, H, W) tensor), and
    every view too with ``same_views``; otherwise each view draws its own."""

    def __init__(self, tf: Transform, layout: str, same_views: bool) -> None:
        self.tf, self.layout, self.same_views = tf, layout, same_views

    def _frames(self, frames: torch.Tensor) -> torch.Tensor:
        """(F, C, H, W) frames, one set of parameters: as a tv_tensors.Video, since v2 reads a
        plain 4-D tensor's first axis as a batch in places (AugMix draws weights per image)."""
        out = self.tf(tv_tensors.Video(frames))
        return out.as_subclass(torch.Tensor)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.layout == "image":
            return self.tf(x)
        if self.layout == "clip":  # (C, T, H, W) -> frames (T, C, H, W)
            return self._frames(x.transpose(0, 1)).transpose(0, 1)
        if self.layout == "views":
            return self._frames(x) if self.same_views else torch.stack([self.tf(v) for v in x])
        frames = x.transpose(1, 2)  # (V, T, C, H, W)
        if self.same_views:
            v, t = frames.shape[:2]
            out = self._frames(frames.reshape(v * t, *frames.shape[2:])).reshape(frames.shape)
        else:
            out = torch.stack([self._frames(clip) for clip in frames])
        return out.transpose(1, 2)


class ByClass:
    """Class-aware strength: the transform built at ``strength * multiplier[label]``, one per
    distinct multiplier (built once). Called with the sample's label."""

    uses_label = True

    def __init__(
        self, build: Any, strength: float, multipliers: list[float], column: int | None = None
    ) -> None:
        self.multipliers, self.column = multipliers, column  # column: a multi-task head's label
        self.by_value = {m: build(strength * m) for m in sorted(set(multipliers))}

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        label = y if self.column is None else y[self.column]
        tf = self.by_value[self.multipliers[int(label)]]
        return tf(x) if tf is not None else x


def stage(
    preset: Preset,
    part: str,
    strength: float,
    layout: str,
    same_views: bool,
    multipliers: list[float] | None,
    column: int | None = None,
) -> Transform | None:
    """The ``part`` (``pixel`` or ``geometric``) per-sample transform of ``preset``, laid out
    for the samples and, with ``multipliers``, class-aware."""

    def build(s: float) -> Transform | None:
        tf = getattr(preset, part)(s)
        if tf is None or layout == "image":
            return tf
        return OnSample(tf, layout, same_views)

    if multipliers is None:
        return build(strength)
    by_class = ByClass(build, strength, multipliers, column)
    return None if all(t is None for t in by_class.by_value.values()) else by_class
