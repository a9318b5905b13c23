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
    as complex, so every optimizer, cast and checkpoint format handles them.

    ``factorization`` stores the (blocks, in, out, *modes) weight as factors (rank: the
    fraction of the full weight's values they hold): ``cp``, a sum of rank-one products, or
    ``tucker``, a core times one matrix per axis; the full weight is rebuilt each forward."""

    def __init__(
        self,
        width: int,
        modes: tuple[int, ...],
        cout: int | None = None,
        factorization: str = "none",
        rank: float = 1.0,
    ) -> None:
        super().__init__()
        self.modes, self.factorization = modes, factorization
        cout = cout or width
        scale = 1 / (width * cout)
        # 2-D keeps the lowest modes of both signs on the first axis: two weight blocks
        blocks = 1 if len(modes) == 1 else 2
        dims = (blocks, width, cout, *modes)
        if factorization == "none":
            self.weight = nn.Parameter(scale * torch.rand(*dims, 2))
            return
        full = math.prod(dims)
        if factorization == "cp":
            r = max(1, round(rank * full / sum(dims)))
            # each factor's entries ~ scale**(1/axes): their products have the dense init's size
            each = scale ** (1 / len(dims))
            self.factors = nn.ParameterList(nn.Parameter(each * torch.rand(d, r, 2)) for d in dims)
        else:  # tucker: each axis reduced by rank**(1/axes), so the core holds ~rank of the values
            ranks = [max(1, round(d * rank ** (1 / len(dims)))) for d in dims]
            self.core = nn.Parameter(scale * torch.rand(*ranks, 2))
            self.factors = nn.ParameterList(  # orthonormal real columns: the core sets the size
                nn.Parameter(F.pad(torch.linalg.qr(torch.randn(d, k))[0].unsqueeze(-1), (0, 1)))
                for d, k in zip(dims, ranks, strict=True)
            )

    def full_weight(self) -> torch.Tensor:
        """The complex (blocks, in, out, *modes) weight."""
        if self.factorization == "none":
            return torch.view_as_complex(self.weight.float())
        factors = [torch.view_as_complex(f.float().contiguous()) for f in self.factors]
        letters = "abcdef"[: len(factors)]
        if self.factorization == "cp":
            return torch.einsum(",".join(f"{a}r" for a in letters) + "->" + letters, *factors)
        core = torch.view_as_complex(self.core.float())
        ranks = "ghijkl"[: len(factors)]
        spec = ranks + "," + ",".join(f"{a}{k}" for a, k in zip(letters, ranks, strict=True))
        return torch.einsum(spec + "->" + letters, core, *factors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype, grid = x.dtype, x.shape[2:]
        w = self.full_weight()
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


class SoftGating(nn.Module):
    """A learned per-channel scale (init 1): the soft-gating skip."""

    def __init__(self, channels: int, dims: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, *([1] * dims)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x


def channel_mlp(cin: int, cout: int, hidden: int) -> nn.Module:
    """Two 1x1 layers with a GELU between (hidden > 0), else one 1x1 layer."""
    if hidden <= 0:
        return Pointwise(cin, cout)
    return nn.Sequential(Pointwise(cin, hidden), nn.GELU(), Pointwise(hidden, cout))


def _skip(kind: str, width: int, dims: int) -> nn.Module:
    if kind == "linear":
        return Pointwise(width, width)
    return SoftGating(width, dims) if kind == "soft-gating" else nn.Identity()


def _field_norm(kind: str, channels: int, dims: int) -> nn.Module | None:
    if kind == "group":
        return nn.GroupNorm(math.gcd(8, channels), channels)
    if kind == "instance":
        return (nn.InstanceNorm1d if dims == 1 else nn.InstanceNorm2d)(channels, affine=True)
    if kind == "batch":
        return (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(channels)
    return None


def grid_coordinates(x: torch.Tensor) -> torch.Tensor:
    """(N, dims, *grid) coordinates i / n of each point per axis: the same values at the
    shared points of a grid and its refinement, so the model stays discretisation invariant."""
    grid = x.shape[2:]
    axes = [torch.arange(n, device=x.device, dtype=x.dtype) / n for n in grid]
    coords = torch.stack(torch.meshgrid(*axes, indexing="ij"))
    return coords.unsqueeze(0).expand(len(x), *coords.shape)


class FNO(nn.Module):
    """Fourier neural operator (Li et al. 2021) as the field's standard implementation
    builds it: grid coordinates appended to the input (``grid_embedding``), a channel-MLP
    lifting to ``width`` channels, an optional zero padding of the grid by a fraction
    (``padding``, for non-periodic problems; cropped before the projection), ``layers``
    Fourier blocks, a channel-MLP projection to the outputs. A block is
    ``v <- act(norm(K v) + skip(v))`` then, with ``channel_mlp``,
    ``v <- act(norm(MLP(v)) + gate(v_in))``; no activation after the last block."""

    def __init__(
        self,
        in_chans: int,
        num_outputs: int,
        width: int,
        layers: int,
        modes: tuple[int, ...],
        *,
        grid_embedding: bool = False,
        padding: float = 0.0,
        lifting_ratio: float = 0.0,
        projection_ratio: float = 4.0,
        use_channel_mlp: bool = False,
        skip: str = "linear",
        norm: str = "none",
        factorization: str = "none",
        rank: float = 1.0,
    ) -> None:
        super().__init__()
        dims = len(modes)
        self.grid_embedding, self.padding = grid_embedding, padding
        self.lift = channel_mlp(in_chans + (dims if grid_embedding else 0), width, int(lifting_ratio * width))
        self.spectral = nn.ModuleList(
            SpectralConv(width, modes, factorization=factorization, rank=rank) for _ in range(layers)
        )
        self.pointwise = nn.ModuleList(_skip(skip, width, dims) for _ in range(layers))
        self.norms = nn.ModuleList(_field_norm(norm, width, dims) or nn.Identity() for _ in range(layers))
        if use_channel_mlp:  # the standard block's second half: MLP expansion 0.5, soft-gated
            self.mlp = nn.ModuleList(channel_mlp(width, width, max(1, width // 2)) for _ in range(layers))
            self.mlp_skip = nn.ModuleList(SoftGating(width, dims) for _ in range(layers))
            self.mlp_norms = nn.ModuleList(
                _field_norm(norm, width, dims) or nn.Identity() for _ in range(layers)
            )
        else:
            self.mlp = None
        self.project = channel_mlp(width, num_outputs, int(projection_ratio * width))
        self.notes: list[str] = []  # what was decided from the grid, logged at the start of a fit

    def _pad(self, v: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
        grid = tuple(v.shape[2:])
        if not self.padding:
            return v, grid
        pad: list[int] = []
        for n in reversed(grid):  # F.pad lists the last axis first; one-sided, at the end
            pad += [0, round(self.padding * n)]
        return F.pad(v, pad), grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.grid_embedding:
            x = torch.cat([x, grid_coordinates(x)], dim=1)
        v, grid = self._pad(self.lift(x))
        last = len(self.spectral) - 1
        for i in range(len(self.spectral)):
            block_in = v
            v = self.norms[i](self.spectral[i](v)) + self.pointwise[i](v)
            if self.mlp is not None:
                v = F.gelu(v) if i < last else v
                v = self.mlp_norms[i](self.mlp[i](v)) + self.mlp_skip[i](block_in)
            if i < last:
                v = F.gelu(v)
        v = v[(..., *(slice(0, n) for n in grid))]
        return self.project(v)


def _field_rank(name: str, input_shape: tuple[int, ...]) -> int:
    if len(input_shape) not in (2, 3):
        raise ConfigError(
            f"{name} needs fields, samples of shape (C, L) or (C, H, W); got samples of shape "
            f"{tuple(input_shape)}: use mlp for vectors, or a source that gives fields (data.source=pde)"
        )
    return len(input_shape) - 1


AUTO_MODES = 16  # model.modes: auto keeps up to this many per axis, the field's usual setting


def fno_modes(cfg: ModelConfig, grid: tuple[int, ...]) -> tuple[tuple[int, ...], str | None]:
    """``model.modes`` per spatial axis, kept to what the grid holds (the last axis (rfft)
    at most n // 2 + 1 modes, the first of a 2-D grid n // 2 of each sign), and the line
    that says what was kept when ``auto`` chose it or the grid cut it down."""
    auto = cfg.modes == "auto"
    if auto:
        asked = [AUTO_MODES] * len(grid)
    elif isinstance(cfg.modes, int):
        asked = [cfg.modes] * len(grid)
    else:
        asked = list(cfg.modes)
    if len(asked) != len(grid):
        raise ConfigError(
            f"model.modes={cfg.modes} gives {len(asked)} axes, the data's grid {'x'.join(map(str, grid))} "
            f"has {len(grid)}: give one number or {len(grid)}"
        )
    most = [n // 2 for n in grid[:-1]] + [grid[-1] // 2 + 1]
    kept = tuple(min(m, top) for m, top in zip(asked, most, strict=True))
    shown = "x".join(map(str, grid))
    if auto:
        return kept, f"fno: model.modes=auto keeps {list(kept)} Fourier modes per axis of the {shown} grid"
    if list(kept) != asked:
        return kept, f"fno: model.modes={cfg.modes} keeps {list(kept)}, what the {shown} grid holds"
    return kept, None


def _check_padding(cfg: ModelConfig, name: str, grid: tuple[int, ...]) -> None:
    if cfg.padding and min(round(cfg.padding * n) for n in grid) < 1:
        smallest = min(grid)
        raise ConfigError(
            f"model.padding={cfg.padding} pads no point of the {'x'.join(map(str, grid))} grid "
            f"(a fraction of {smallest} points rounds to 0): set model.padding to at least "
            f"{1 / smallest:.3g}, or 0 for periodic data"
        )
    del name


def fno(input_shape: tuple[int, ...], num_outputs: int, cfg: ModelConfig) -> nn.Module:
    """Fourier neural operator on (C, L) or (C, H, W) fields; options in docs/operators.md."""
    _field_rank("fno", input_shape)
    grid = tuple(input_shape[1:])
    modes, line = fno_modes(cfg, grid)
    _check_padding(cfg, "fno", grid)
    model = FNO(
        cfg.in_chans or input_shape[0],
        num_outputs,
        cfg.width,
        cfg.layers,
        modes,
        grid_embedding=cfg.grid_embedding,
        padding=cfg.padding,
        lifting_ratio=cfg.lifting_ratio,
        projection_ratio=cfg.projection_ratio,
        use_channel_mlp=cfg.channel_mlp,
        skip=cfg.skip,
        norm="none" if cfg.norm == "auto" else cfg.norm,
        factorization=cfg.factorization,
        rank=cfg.rank,
    )
    model.notes = [line] if line else []
    return model


def model_notes(model: nn.Module) -> list[str]:
    """Lines a field model inside ``model`` decided from the grid (the kept modes)."""
    return [line for m in model.modules() if isinstance(m, FNO) for line in m.notes]


class UNet(nn.Module):
    """A small U-Net: ``depth`` levels of (conv-norm-GELU) x 2 with 2x pooling, channels
    ``width * 2**level``, skip connections, a 1x1 output conv. The grid is padded
    (replicate) by the ``padding`` fraction and to a multiple of 2**depth, and cropped
    back, so any size works. ``norm``: group (GroupNorm, batch-size independent), instance,
    batch or none."""

    def __init__(
        self,
        dims: int,
        in_chans: int,
        num_outputs: int,
        width: int,
        depth: int,
        norm: str = "group",
        padding: float = 0.0,
    ) -> None:
        super().__init__()
        self.padding = padding
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        up = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose2d
        self.pool = nn.MaxPool1d(2) if dims == 1 else nn.MaxPool2d(2)
        self.depth = depth

        def block(cin: int, cout: int) -> nn.Sequential:
            layers: list[nn.Module] = []
            for a, b in ((cin, cout), (cout, cout)):
                layers += [conv(a, b, 3, padding=1), _field_norm(norm, b, dims) or nn.Identity(), nn.GELU()]
            return nn.Sequential(*layers)

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
        for n in reversed(grid):  # F.pad lists the last axis first; domain padding, then to 2**depth
            extra = round(self.padding * n)
            pad += [0, extra + -(n + extra) % step]
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
    _check_padding(cfg, "unet", tuple(input_shape[1:]))
    norm = "group" if cfg.norm == "auto" else cfg.norm
    return UNet(dims, cfg.in_chans or input_shape[0], num_outputs, cfg.width, cfg.layers, norm, cfg.padding)
