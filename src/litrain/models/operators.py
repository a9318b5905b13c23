"""Field models for neural-operator training: ``fno`` and ``unet``, 1-D or 2-D by the rank
of the input.

The contract of a field model: samples ``(C, L)`` or ``(C, H, W)`` in, a batch
``(N, num_outputs, L)`` or ``(N, num_outputs, H, W)`` out, on the input's grid. The
regression task sets ``num_outputs`` to the target field's channels. Builders have the
built-in signature ``(input_shape, num_outputs, ModelConfig) -> nn.Module``.

Channel mixing (the FNO's lifting, pointwise and projection layers) is a 1x1 convolution
whose kernel is stored as an (out, in) matrix (:class:`Pointwise`): the same operation, but
a 2-D weight the ``muon`` optimizer can orthogonalise.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from litrain.config import ModelConfig
from litrain.errors import ConfigError


class Pointwise(nn.Module):
    """A 1x1 convolution over (N, C, *grid) with an (out, in) weight matrix."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cout, cin))
        self.bias = nn.Parameter(torch.empty(cout))
        bound = 1 / math.sqrt(cin)  # nn.Linear's / nn.Conv's default initialisation
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.weight.view(*self.weight.shape, *([1] * (x.ndim - 2)))
        conv = F.conv1d if x.ndim == 3 else F.conv2d
        return conv(x, kernel, self.bias)


class SpectralConv(nn.Module):
    """The Fourier layer's integral operator: rfft over the grid, a learned complex
    (in, out) matrix per kept mode, inverse rfft. Computed in float32 (FFTs in half
    precision are neither portable nor accurate); weights are real (..., 2) tensors viewed
    as complex, so every optimizer, cast and checkpoint format handles them."""

    def __init__(self, width: int, modes: tuple[int, ...]) -> None:
        super().__init__()
        self.modes = modes
        scale = 1 / (width * width)
        # 2-D keeps the lowest modes of both signs on the first axis: two weight blocks
        blocks = 1 if len(modes) == 1 else 2
        self.weight = nn.Parameter(scale * torch.rand(blocks, width, width, *modes, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype, grid = x.dtype, x.shape[2:]
        w = torch.view_as_complex(self.weight.float())
        dims = tuple(range(2, x.ndim))
        xf = torch.fft.rfftn(x.float(), dim=dims)
        out = torch.zeros(x.shape[0], w.shape[2], *xf.shape[2:], dtype=xf.dtype, device=x.device)
        if len(self.modes) == 1:
            (m,) = self.modes
            out[..., :m] = torch.einsum("bix,iox->box", xf[..., :m], w[0])
        else:
            m1, m2 = self.modes
            out[:, :, :m1, :m2] = torch.einsum("bixy,ioxy->boxy", xf[:, :, :m1, :m2], w[0])
            out[:, :, -m1:, :m2] = torch.einsum("bixy,ioxy->boxy", xf[:, :, -m1:, :m2], w[1])
        return torch.fft.irfftn(out, s=grid, dim=dims).to(dtype)


class FNO(nn.Module):
    """Fourier neural operator (Li et al. 2021): lift to ``width`` channels, ``layers``
    Fourier layers ``v <- GELU(K v + W v)`` (no GELU after the last), project through
    ``4 * width`` channels to the outputs."""

    def __init__(
        self, in_chans: int, num_outputs: int, width: int, layers: int, modes: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.lift = Pointwise(in_chans, width)
        self.spectral = nn.ModuleList(SpectralConv(width, modes) for _ in range(layers))
        self.pointwise = nn.ModuleList(Pointwise(width, width) for _ in range(layers))
        self.project = nn.Sequential(
            Pointwise(width, 4 * width), nn.GELU(), Pointwise(4 * width, num_outputs)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.lift(x)
        last = len(self.spectral) - 1
        for i, (k, w) in enumerate(zip(self.spectral, self.pointwise, strict=True)):
            v = k(v) + w(v)
            if i < last:
                v = F.gelu(v)
        return self.project(v)


def _field_rank(name: str, input_shape: tuple[int, ...]) -> int:
    if len(input_shape) not in (2, 3):
        raise ConfigError(
            f"{name} needs fields, samples of shape (C, L) or (C, H, W); got samples of shape "
            f"{tuple(input_shape)}: use mlp for vectors, or a source that gives fields (data.source=pde)"
        )
    return len(input_shape) - 1


def fno_modes(cfg: ModelConfig, grid: tuple[int, ...]) -> tuple[int, ...]:
    """``model.modes`` per spatial axis, checked against what the grid holds: the last axis
    (rfft) keeps at most n // 2 + 1 modes, the first of a 2-D grid n // 2 of each sign."""
    modes = [cfg.modes] * len(grid) if isinstance(cfg.modes, int) else list(cfg.modes)
    if len(modes) != len(grid):
        raise ConfigError(
            f"model.modes={cfg.modes} gives {len(modes)} axes, the data's grid {'x'.join(map(str, grid))} "
            f"has {len(grid)}: give one number or {len(grid)}"
        )
    most = [n // 2 for n in grid[:-1]] + [grid[-1] // 2 + 1]
    if any(m > top for m, top in zip(modes, most, strict=True)):
        shown = most[0] if len(set(most)) == 1 else most
        raise ConfigError(
            f"model.modes={cfg.modes} is more than the grid of {'x'.join(map(str, grid))} points holds: "
            f"set model.modes to at most {shown}"
        )
    return tuple(modes)


def fno(input_shape: tuple[int, ...], num_outputs: int, cfg: ModelConfig) -> nn.Module:
    """Fourier neural operator on (C, L) or (C, H, W) fields (model.modes, width, layers)."""
    _field_rank("fno", input_shape)
    modes = fno_modes(cfg, tuple(input_shape[1:]))
    return FNO(cfg.in_chans or input_shape[0], num_outputs, cfg.width, cfg.layers, modes)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(8, channels), channels)  # batch-size independent, unlike BN


class UNet(nn.Module):
    """A small U-Net: ``depth`` levels of (conv-GroupNorm-GELU) x 2 with 2x pooling, channels
    ``width * 2**level``, skip connections, a 1x1 output conv. The grid is padded
    (replicate) to a multiple of 2**depth and cropped back, so any size works."""

    def __init__(self, dims: int, in_chans: int, num_outputs: int, width: int, depth: int) -> None:
        super().__init__()
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        up = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose2d
        self.pool = nn.MaxPool1d(2) if dims == 1 else nn.MaxPool2d(2)
        self.depth = depth

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                conv(cin, cout, 3, padding=1),
                _norm(cout),
                nn.GELU(),
                conv(cout, cout, 3, padding=1),
                _norm(cout),
                nn.GELU(),
            )

        chans = [width * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList(
            [block(in_chans, chans[0])] + [block(chans[i], chans[i + 1]) for i in range(depth)]
        )
        self.up = nn.ModuleList(up(chans[i + 1], chans[i], 2, stride=2) for i in reversed(range(depth)))
        self.merge = nn.ModuleList(block(2 * chans[i], chans[i]) for i in reversed(range(depth)))
        self.out = conv(chans[0], num_outputs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid = x.shape[2:]
        step = 2**self.depth
        pad: list[int] = []
        for n in reversed(grid):  # F.pad lists the last axis first
            pad += [0, -n % step]
        h = F.pad(x, pad, mode="replicate") if any(pad) else x
        skips = []
        for i, block in enumerate(self.down):
            h = block(h if i == 0 else self.pool(h))
            skips.append(h)
        skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            h = merge(torch.cat([up(h), skips.pop()], dim=1))
        h = self.out(h)
        return h[(..., *(slice(0, n) for n in grid))]


def unet(input_shape: tuple[int, ...], num_outputs: int, cfg: ModelConfig) -> nn.Module:
    """U-Net on (C, L) or (C, H, W) fields: model.width base channels, model.layers levels."""
    dims = _field_rank("unet", input_shape)
    return UNet(dims, cfg.in_chans or input_shape[0], num_outputs, cfg.width, cfg.layers)
