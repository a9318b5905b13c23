"""Augment presets (data.augment) on torchvision v2: each builds and transforms float and
uint8 images, data.augment_strength scales them (0: the identity), clips share one random
transform across frames (and views when asked), and class-aware strength follows labels."""

from __future__ import annotations

import pytest
import torch

from litrain.data.augment import ByClass, OnSample, build_augment, layout_of, policy_transform, stage
from litrain.data.class_strength import auto_multipliers, class_multipliers
from litrain.data.transforms import Augment
from litrain.errors import ConfigError
from litrain.registry import AUGMENTS

PRESETS = [n for n in AUGMENTS.names() if n != "none"]


def _images(n: int = 32, seed: int = 0, size: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand((n, 3, size, size), generator=g)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_transforms_float_and_uint8_images(preset):
    tf = build_augment(preset, is_image=True)
    assert tf is not None
    x = _images(1)[0]
    torch.manual_seed(0)
    out = tf(x)
    assert out.shape == x.shape and out.dtype == torch.float32 and torch.isfinite(out).all()
    u8 = (x * 255).to(torch.uint8)
    out8 = tf(u8)
    assert out8.shape == u8.shape and out8.dtype == torch.uint8
    gray = tf(x[:1])  # one channel (digits): colour ops leave the channel count alone
    assert gray.shape == (1, 32, 32)


@pytest.mark.parametrize("preset", [*PRESETS, "none"])
def test_strength_zero_is_the_identity(preset):
    assert build_augment(preset, is_image=True, strength=0.0) is None


@pytest.mark.parametrize("preset", PRESETS)
def test_larger_strength_changes_images_more(preset):
    # smooth images (upsampled 4x4 noise): a larger shift or rotation moves pixels further
    x = torch.nn.functional.interpolate(_images(16, size=4), size=16, mode="bilinear")

    def change(strength: float) -> float:
        tf = build_augment(preset, is_image=True, strength=strength)
        torch.manual_seed(1)  # the same random choices at each strength
        return float(torch.stack([(tf(xi) - xi).abs().mean() for xi in x]).mean())

    weak, strong = change(0.3), change(1.5)
    assert strong > weak > 0


def test_flip_crop_light_keep_their_original_numbers():
    for name, flip, crop in (("flip", True, False), ("crop", False, True), ("light", True, True)):
        aug = build_augment(name, is_image=True)
        assert isinstance(aug, Augment) and (aug.flip, aug.crop) == (flip, crop)
        assert (aug.pad_scale, aug.flip_prob, aug.pad(32), aug.pad(8), aug.pad(4)) == (1.0, 0.5, 4, 1, 1)
    x = _images(1)[0]
    torch.manual_seed(3)
    out = build_augment("light", is_image=True)(x)
    torch.manual_seed(3)  # the formula the preset always had: one flip draw, one offset pair
    ref = x.flip(-1) if torch.rand(()) < 0.5 else x
    i, j = torch.randint(0, 9, (2,)).tolist()
    assert torch.equal(out, torch.nn.functional.pad(ref, (4, 4, 4, 4))[..., i : i + 32, j : j + 32])


def test_policy_magnitudes_scale_towards_the_identity():
    half = policy_transform("randaugment", 0.5)
    full = policy_transform("randaugment", 1.0)
    for name, (fn, _) in half._AUGMENTATION_SPACE.items():
        m_half, m_full = fn(31, 32, 32), full._AUGMENTATION_SPACE[name][0](31, 32, 32)
        if m_full is None:
            assert m_half is None
        elif name == "Posterize":  # bits: 8 is the identity
            assert torch.equal(m_half, (8 - (8 - m_full.float()) * 0.5).round().int())
        elif name == "Solarize":  # threshold: 1 is the identity
            torch.testing.assert_close(m_half, 1 - (1 - m_full) * 0.5)
        else:
            torch.testing.assert_close(m_half, m_full * 0.5)
    # the class's own table is untouched
    assert type(half)._AUGMENTATION_SPACE["Rotate"][0](31, 1, 1)[-1] == 30.0


@pytest.mark.parametrize("preset", ["light", "medium", "randaugment", "augmix"])
def test_every_frame_of_a_clip_gets_the_same_transform(preset):
    frame = _images(1)[0]
    clip = frame.unsqueeze(1).expand(3, 6, 32, 32).contiguous()  # (C, T, H, W), identical frames
    args = (1.0, layout_of((3, 6, 32, 32), 0, True), False, None)
    torch.manual_seed(0)
    for part in ("pixel", "geometric"):
        tf = stage(AUGMENTS.get(preset), part, *args)
        if tf is None:
            continue
        assert isinstance(tf, OnSample)
        for _ in range(4):
            out = tf(clip)
            assert out.shape == clip.shape
            assert all(torch.equal(out[:, t], out[:, 0]) for t in range(6))


def test_views_draw_their_own_transform_unless_asked_to_share_it():
    view = _images(1)[0]
    views = view.unsqueeze(0).expand(4, 3, 32, 32).contiguous()  # (V, C, H, W)
    layout = layout_of((4, 3, 32, 32)[1:], 4, False)
    torch.manual_seed(0)
    each = stage(AUGMENTS.get("light"), "geometric", 1.0, layout, False, None)
    outs = [each(views) for _ in range(4)]
    assert any(not torch.equal(o[v], o[0]) for o in outs for v in range(4))
    same = stage(AUGMENTS.get("light"), "geometric", 1.0, layout, True, None)
    assert all(torch.equal(o[v], o[0]) for o in (same(views) for _ in range(4)) for v in range(4))
    # multi-view clips (V, C, T, H, W): every frame of every view alike with same_views
    clips = views.unsqueeze(2).expand(4, 3, 5, 32, 32).contiguous()
    shared = stage(AUGMENTS.get("medium"), "pixel", 1.0, layout_of((3, 5, 32, 32), 4, True), True, None)
    out = shared(clips)
    assert all(torch.equal(out[v, :, t], out[0, :, 0]) for v in range(4) for t in range(5))


def test_class_aware_strength_uses_each_label_s_multiplier():
    tf = stage(AUGMENTS.get("light"), "geometric", 1.0, "image", False, [0.0, 1.0, 2.0])
    assert isinstance(tf, ByClass) and tf.uses_label
    assert tf.by_value[0.0] is None  # multiplier 0: that class is never augmented
    assert tf.by_value[2.0].pad(32) == 8 and tf.by_value[1.0].pad(32) == 4
    x = _images(1)[0]
    assert all(torch.equal(tf(x, torch.tensor(0)), x) for _ in range(5))


def test_auto_class_multipliers_follow_the_documented_rule():
    counts = torch.tensor([100, 25, 4, 0, 100])
    # (100 / n) ** 0.5 clipped to [1, 4]; an absent class gets the cap
    assert auto_multipliers(counts) == pytest.approx([1.0, 2.0, 4.0, 4.0, 1.0])
    labels = torch.tensor([0] * 9 + [1])
    assert class_multipliers("auto", labels, 2, True) == pytest.approx([1.0, 3.0])
    assert class_multipliers([1, 2.5], labels, 2, True) == [1.0, 2.5]
    with pytest.raises(ConfigError, match="has 3 multipliers but the data has 2 classes"):
        class_multipliers([1, 1, 1], labels, 2, True)
    with pytest.raises(ConfigError, match="needs one class label per sample"):
        class_multipliers("auto", torch.zeros(4, 3), 3, False)


def test_a_preset_registered_as_a_plain_function_still_works():
    from litrain.data.augment import preset_named

    AUGMENTS.register("tmp_hflip", "torchvision.transforms.v2:RandomHorizontalFlip")
    try:
        preset = preset_named("tmp_hflip")
        assert not preset.batchable and not preset.empty
        assert type(build_augment("tmp_hflip", is_image=True)).__name__ == "RandomHorizontalFlip"
        assert build_augment("tmp_hflip", is_image=True, strength=0.0) is None
    finally:
        AUGMENTS.unregister("tmp_hflip")
