"""Whole-batch device augmentation (data.augment_device=device): reproducible from its
generator, its own parameters per sample, exact flip/crop/jitter formulas, strength 0 and
class multipliers 0 leave samples as they are, clips share one draw across frames."""

from __future__ import annotations

import torch

from litrain.data.augment import LIGHT, MEDIUM, Preset
from litrain.data.batch_augment import DeviceAugment


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _same_images(n: int = 16, c: int = 3) -> torch.Tensor:
    img = torch.rand((1, c, 16, 16), generator=_gen(9))
    return img.expand(n, c, 16, 16).contiguous()


def test_same_generator_same_batch_and_each_sample_its_own_parameters():
    aug = DeviceAugment(MEDIUM, 1.0, None, None)
    x = _same_images()
    a, b = aug(x, None, _gen(1)), aug(x, None, _gen(1))
    assert torch.equal(a, b)
    distinct = {tuple(s.flatten()[:64].tolist()) for s in a}
    assert len(distinct) > 8  # identical inputs, different outputs: per-sample draws
    assert not torch.equal(aug(x, None, _gen(2)), a)


def test_flip_and_crop_follow_the_drawn_parameters():
    x = torch.rand((5, 1, 16, 16), generator=_gen(4))
    out = DeviceAugment(LIGHT, 1.0, None, None)(x, None, _gen(3))
    g = _gen(3)
    flip = torch.rand(5, generator=g) < 0.5
    u = torch.rand(2, 5, generator=g)
    off = (u * 5).floor().clamp(max=4).long()  # pad 2 = max(1, 16 // 8): offsets 0..4
    for i in range(5):
        xi = x[i].flip(-1) if flip[i] else x[i]
        padded = torch.nn.functional.pad(xi, (2, 2, 2, 2))
        r, c = int(off[0, i]), int(off[1, i])
        assert torch.equal(out[i], padded[:, r : r + 16, c : c + 16])


def test_jitter_is_brightness_contrast_saturation_on_pixel_values():
    mean, std = torch.tensor([0.5, 0.4, 0.3]).view(3, 1, 1), torch.tensor([0.2, 0.25, 0.3]).view(3, 1, 1)
    pixels = torch.rand((4, 3, 8, 8), generator=_gen(5))
    x = (pixels - mean) / std
    preset = Preset(jitter=(0.4, 0.3, 0.2))
    out = DeviceAugment(preset, 0.5, mean, std)(x, None, _gen(6))
    f = 1 + (torch.rand(3, 4, generator=_gen(6)) * 2 - 1) * torch.tensor([0.4, 0.3, 0.2]).view(3, 1) * 0.5
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    p = (pixels * f[0].view(4, 1, 1, 1)).clamp(0, 1)
    m = (p * luma).sum(1, keepdim=True).mean((1, 2, 3), keepdim=True)
    p = ((p - m) * f[1].view(4, 1, 1, 1) + m).clamp(0, 1)
    gray = (p * luma).sum(1, keepdim=True)
    p = ((p - gray) * f[2].view(4, 1, 1, 1) + gray).clamp(0, 1)
    torch.testing.assert_close(out, (p - mean) / std, rtol=1e-5, atol=1e-5)


def test_strength_zero_and_class_multiplier_zero_keep_samples_exactly():
    x = torch.randn((8, 3, 16, 16), generator=_gen(7))
    assert torch.equal(DeviceAugment(MEDIUM, 0.0, None, None)(x, None, _gen()), x)
    y = torch.tensor([0, 1] * 4)
    aug = DeviceAugment(MEDIUM, 1.0, None, None, class_strength=torch.tensor([0.0, 2.0]))
    out = aug(x, y, _gen(1))
    assert torch.equal(out[y == 0], x[y == 0])
    assert all(not torch.equal(out[i], x[i]) for i in range(1, 8, 2))
    torch.testing.assert_close(aug.strengths(y, 8), torch.tensor([0.0, 2.0] * 4))


def test_clip_frames_share_one_draw_and_views_draw_their_own():
    frame = torch.rand((4, 3, 1, 16, 16), generator=_gen(8))
    clips = frame.expand(4, 3, 5, 16, 16).contiguous()  # (B, C, T, H, W), identical frames
    out = DeviceAugment(MEDIUM, 1.0, None, None, layout="clip")(clips, None, _gen(2))
    assert all(torch.equal(out[:, :, t], out[:, :, 0]) for t in range(5))
    views = torch.rand((1, 1, 3, 16, 16), generator=_gen(8)).expand(6, 4, 3, 16, 16).contiguous()
    each = DeviceAugment(MEDIUM, 1.0, None, None, layout="views")(views, None, _gen(2))
    assert any(not torch.equal(each[b, v], each[b, 0]) for b in range(6) for v in range(4))
    same = DeviceAugment(MEDIUM, 1.0, None, None, layout="views", same_views=True)(views, None, _gen(2))
    assert all(torch.equal(same[b, v], same[b, 0]) for b in range(6) for v in range(4))
