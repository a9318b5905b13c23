"""Whole-batch augmentation on the training device (``data.augment_device: device``).

The flip, padded crop and colour jitter of a preset, applied to a normalized batch where it
already is (GPU or CPU) as a few tensor ops over the whole batch, so the loader does no
per-sample work. Every sample still draws its own parameters, from a CPU generator the
caller seeds (by seed, rank, epoch and batch): the same numbers on any device, in both
engines and after a resume. A sample's strength is ``augment_strength`` times its class's
multiplier (``data.augment_class_strength``); strength 0 leaves a sample as it is.

Samples are handled as ``(N, F, C, H, W)`` frames that share parameters: an image is one
frame, a clip's T frames share them, and so do a sample's views with ``same_views``
(otherwise each view is a sample of its own).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from litrain.data.augment import Preset

# ITU-R 601 luma, what torchvision's rgb_to_grayscale (and so its saturation/contrast) use
_LUMA = (0.299, 0.587, 0.114)


class DeviceAugment:
    def __init__(
        self,
        preset: Preset,
        strength: float,
        mean: torch.Tensor | None,
        std: torch.Tensor | None,
        layout: str = "image",
        same_views: bool = False,
        class_strength: torch.Tensor | None = None,
        class_column: int | None = None,
    ) -> None:
        if not preset.batchable:
            raise ValueError(f"{preset} runs per sample only")
        self.preset, self.strength, self.layout, self.same_views = preset, strength, layout, same_views
        # per-channel statistics: jitter works on pixel values, the batch is normalized
        self.mean = None if mean is None else mean.flatten()
        self.std = None if std is None else std.flatten()
        self.class_strength = class_strength
        self.class_column = class_column  # a multi-task head's label column of y

    # ------------------------------------------------------------- layout
    def _frames(self, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(N, F, C, H, W) and how many samples each of the N rows stands for (views)."""
        if self.layout == "image":
            return x.unsqueeze(1), 1
        if self.layout == "clip":  # (B, C, T, H, W)
            return x.transpose(1, 2), 1
        if self.layout == "views":  # (B, V, C, H, W)
            return (x, 1) if self.same_views else (x.flatten(0, 1).unsqueeze(1), x.shape[1])
        frames = x.transpose(2, 3)  # (B, V, T, C, H, W)
        if self.same_views:
            return frames.flatten(1, 2), 1
        return frames.flatten(0, 1), x.shape[1]

    def _unframes(self, f: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        if self.layout == "image":
            return f.squeeze(1)
        if self.layout == "clip":
            return f.transpose(1, 2)
        if self.layout == "views":
            return f.view(like.shape)
        b, v, c, t, h, w = like.shape
        return f.reshape(b, v, t, c, h, w).transpose(2, 3)

    def strengths(self, y: torch.Tensor | None, b: int) -> torch.Tensor:
        """(b,) per-sample strength on the CPU."""
        s = torch.full((b,), float(self.strength))
        if self.class_strength is not None and y is not None:
            labels = y if self.class_column is None else y[:, self.class_column]
            s = s * self.class_strength[labels.long().cpu()]
        return s

    # ------------------------------------------------------------- the ops
    def __call__(self, x: torch.Tensor, y: torch.Tensor | None, gen: torch.Generator) -> torch.Tensor:
        frames, per = self._frames(x)
        s = self.strengths(y, x.shape[0]).repeat_interleave(per)
        n = frames.shape[0]
        p = self.preset
        dev = x.device
        if p.flip:
            chance = 0.5 * s.clamp(max=1.0)
            mask = (torch.rand(n, generator=gen) < chance).to(dev).view(n, 1, 1, 1, 1)
            frames = torch.where(mask, frames.flip(-1), frames)
        if p.crop:
            frames = self._crop(frames, s, gen)
        if any(p.jitter):
            frames = self._jitter(frames, s, gen)
        return self._unframes(frames, x)

    def _crop(self, f: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """A random crop after zero padding: offsets in [-pad_i, pad_i], pad_i the sample's
        padding (max(1, h // 8) * crop * strength, rounded); all padded by the largest."""
        n, fr, c, h, w = f.shape
        unit = max(1, h // 8) * self.preset.crop
        pads = torch.where(s > 0, (unit * s).round().clamp(min=1), torch.zeros_like(s))
        top = int(pads.max())
        u = torch.rand(2, n, generator=gen)
        off = (u * (2 * pads + 1)).floor().clamp(max=2 * pads) - pads + top  # in [top-pad, top+pad]
        off = off.long().to(f.device)
        if top == 0:
            return f
        flat = F.pad(f.reshape(n, fr * c, h, w), (top, top, top, top))
        rows = (off[0].view(n, 1) + torch.arange(h, device=f.device)).view(n, 1, h, 1)
        cols = (off[1].view(n, 1) + torch.arange(w, device=f.device)).view(n, 1, 1, w)
        batch = torch.arange(n, device=f.device).view(n, 1, 1, 1)
        chan = torch.arange(fr * c, device=f.device).view(1, -1, 1, 1)
        return flat[batch, chan, rows, cols].view(n, fr, c, h, w)

    def _jitter(self, f: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Brightness, contrast, saturation factors 1 + U(-1, 1) * amount * strength, in that
        order, on pixel values clamped to [0, 1] (as torchvision's ColorJitter on floats)."""
        n, _, c = f.shape[:3]
        amounts = torch.tensor(self.preset.jitter)
        u = torch.rand(3, n, generator=gen) * 2 - 1
        factors = (1 + u * amounts.view(3, 1) * s.view(1, n)).clamp(min=0).to(f.device, f.dtype)
        shape = (1, 1, c, 1, 1)
        x = f
        if self.mean is not None and self.std is not None:
            x = f * self.std.to(f.device, f.dtype).view(shape) + self.mean.to(f.device, f.dtype).view(shape)
        view = (n, 1, 1, 1, 1)
        out = (x * factors[0].view(view)).clamp(0, 1)
        gray = self._gray(out)
        m = gray.mean(dim=(-3, -2, -1), keepdim=True)
        out = ((out - m) * factors[1].view(view) + m).clamp(0, 1)
        if c == 3:
            gray = self._gray(out)
            out = ((out - gray) * factors[2].view(view) + gray).clamp(0, 1)
        if self.mean is not None and self.std is not None:
            out = (out - self.mean.to(f.device, f.dtype).view(shape)) / self.std.to(f.device, f.dtype).view(
                shape
            )
        # a sample of strength 0 keeps its exact values (no round trip through pixels)
        return torch.where((s > 0).to(f.device).view(view), out, f)

    @staticmethod
    def _gray(x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] != 3:
            return x
        w = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 1, 3, 1, 1)
        return (x * w).sum(2, keepdim=True)
