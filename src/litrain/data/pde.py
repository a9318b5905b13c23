"""``data.source: pde``: input/solution fields of a PDE, generated here, so operator
training runs offline with no download.

- ``data.pde: burgers | heat | advection``: 1-D, periodic on [0, 1), ``data.pde_resolution``
  points. x is the initial field u0 (a Gaussian random field, as in the FNO paper), y the
  solution at ``data.pde_time``, or, with ``data.pde_steps`` T > 1, the rollout at times
  ``pde_time * k / T`` (k = 1..T) stacked as T channels: x (1, L), y (T, L).
- ``data.pde: darcy``: 2-D steady flow ``-div(a grad u) = 1`` on the unit square, u = 0 on
  the boundary; x is the coefficient field a (a thresholded Gaussian random field taking
  the values 12 and 3, as in the FNO paper), y the pressure u: x (1, n, n), y (1, n, n).
- ``data.pde_grid`` (default true, the FNO convention) appends the grid coordinates as
  input channels: x (2, L) or (3, n, n).
- ``data.pde_tasks: [burgers, advection]`` solves each listed 1-D equation from the same
  initial fields (each with its default coefficient) as one multi-task set: one target per
  equation, ``head_columns``/``head_shapes`` named after it (``task.heads.<pde>``).

The solvers are in :mod:`litrain.data.pde_solvers`. The fields depend only on the options
and ``data.pde_seed`` (their own NumPy generator: neither ``run.seed`` nor the global RNG);
``run.seed`` still decides the train/val split. They are cached after the first run in
``data.root`` (default ``~/.cache/litrain/pde``) as ``<pde>-<hash of the options>.npz``,
written to a temporary file and renamed, so a killed run never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from litrain.config import DataConfig
from litrain.core.atomic import atomic_open
from litrain.data import pde_solvers as solvers
from litrain.data.base import DataInfo, SourceData
from litrain.errors import ConfigError, DataError

# Bump when the generated fields change for the same options: old cache files then miss.
GENERATOR_VERSION = 1
# The coefficient of each 1-D equation when data.pde_coef is unset.
DEFAULT_COEF = {"burgers": 0.1, "heat": 0.01, "advection": 0.5}
COEF_NAME = {"burgers": "viscosity", "heat": "diffusivity", "advection": "speed"}
DARCY_VALUES = (12.0, 3.0)  # a(x) where the random field is >= 0 / < 0
# Burgers is resolved when the top third of the kept spectrum holds less than this share
# of the solution's amplitude; above it the grid is too coarse for the viscosity.
RESOLVED_TAIL = 1e-4


def pde(cfg: DataConfig) -> SourceData:
    """The fields of ``data.pde``; see the module docstring for shapes and options."""
    if cfg.pde_tasks:
        return _several(cfg)
    options = _options(cfg)
    x, y = _cached(options, _cache_dir(cfg))
    if cfg.pde_grid:
        x = np.concatenate([x, _grid(x.shape[0], x.shape[2:])], axis=1)
    xt = torch.from_numpy(x.astype(np.float32))
    yt = torch.from_numpy(y.astype(np.float32))
    info = DataInfo(
        tuple(xt.shape[1:]),
        0,
        [],
        float_targets=True,
        target_shape=tuple(yt.shape[1:]),
        time_axis=cfg.pde_steps > 1,  # y is (T, L): the solution at T times
    )
    return SourceData(train=(xt, yt), info=info)


def _options(cfg: DataConfig) -> dict[str, object]:
    """What the generated fields depend on (and the cache file's name hashes)."""
    if cfg.pde == "darcy":
        if cfg.pde_steps != 1:
            raise ConfigError(
                f"data.pde_steps={cfg.pde_steps} asks for a rollout, but darcy is steady: drop data.pde_steps"
            )
        if cfg.pde_coef is not None:
            raise ConfigError(
                f"data.pde_coef={cfg.pde_coef} has no meaning for darcy (a takes the values "
                f"{DARCY_VALUES[0]:g} and {DARCY_VALUES[1]:g}): drop data.pde_coef"
            )
        coef, time = None, None
    else:
        coef = cfg.pde_coef if cfg.pde_coef is not None else DEFAULT_COEF[cfg.pde]
        time = cfg.pde_time
    return {
        "pde": cfg.pde,
        "resolution": cfg.pde_resolution,
        "samples": cfg.num_samples,
        "coef": coef,
        "time": time,
        "steps": cfg.pde_steps,
        "seed": cfg.pde_seed,
        "version": GENERATOR_VERSION,
    }


def _cache_dir(cfg: DataConfig) -> Path:
    return Path(cfg.root).expanduser() if cfg.root else Path.home() / ".cache" / "litrain" / "pde"


def cache_path(options: dict[str, object], folder: Path) -> Path:
    digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]
    return folder / f"{options['pde']}-{digest}.npz"


def _cached(options: dict[str, object], folder: Path) -> tuple[np.ndarray, np.ndarray]:
    path = cache_path(options, folder)
    if path.is_file():
        try:
            with np.load(path) as z:
                return z["x"], z["y"]
        except Exception:  # unreadable: a cache, so generate it again
            pass
    x, y = generate(options)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as f:
            np.savez(f, x=x, y=y)
    except OSError as exc:
        raise DataError(
            f"cannot write the pde cache {path} ({exc}): set data.root to a writable directory"
        ) from None
    return x, y


def generate(options: dict[str, object]) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) float64 arrays for ``options``: x (N, 1, *grid), y (N, T, *grid)."""
    rng = np.random.default_rng(int(options["seed"]))  # type: ignore[call-overload]
    n, samples = int(options["resolution"]), int(options["samples"])  # type: ignore[call-overload]
    name = options["pde"]
    if name == "darcy":
        a = np.where(solvers.grf_2d(rng, samples, n) >= 0, *DARCY_VALUES)
        u = np.stack([solvers.darcy(ai) for ai in a])
        return a[:, None], u[:, None]
    u0 = solvers.grf_1d(rng, samples, n)
    steps, coef = int(options["steps"]), float(options["coef"])  # type: ignore[call-overload, arg-type]
    times = float(options["time"]) * np.arange(1, steps + 1) / steps  # type: ignore[arg-type]
    if name == "heat":
        u = solvers.heat(u0, coef, times)
    elif name == "advection":
        u = solvers.advection(u0, coef, times)
    else:
        u = solvers.burgers(u0, coef, times)
        _check_resolved(u, n, coef)
    return u0[:, None], u


def _check_resolved(u: np.ndarray, n: int, nu: float) -> None:
    """A grid too coarse for the viscosity gives Gibbs ripples, not Burgers: refuse it."""
    spec = np.abs(np.fft.rfft(u, axis=-1))
    kept = int(np.ceil(n / 3))
    tail = spec[..., (2 * kept) // 3 : kept].max() / spec.max()
    if tail > RESOLVED_TAIL:
        raise ConfigError(
            f"data.pde_resolution={n} is too coarse for burgers at viscosity {nu:g} (the smallest "
            f"resolved scales hold {tail:.1e} of the amplitude, above {RESOLVED_TAIL:g}): raise "
            "data.pde_resolution or data.pde_coef"
        )


def _grid(samples: int, shape: tuple[int, ...]) -> np.ndarray:
    """Grid coordinates as channels: (N, 1, L) on [0, 1) periodic, or (N, 2, n, n) on [0, 1]^2."""
    if len(shape) == 1:
        coords = [np.arange(shape[0]) / shape[0]]
    else:
        axes = [np.linspace(0.0, 1.0, s) for s in shape]
        coords = list(np.meshgrid(*axes, indexing="ij"))
    grid = np.stack(coords)[None]
    return np.broadcast_to(grid, (samples, *grid.shape[1:]))


def _several(cfg: DataConfig) -> SourceData:
    """``data.pde_tasks``: each equation solved from the same initial fields (one seed), as
    one multi-task set: y packs each equation's (T, L) target flat, in the listed order."""
    names = list(dict.fromkeys(cfg.pde_tasks))
    if len(names) != len(cfg.pde_tasks):
        raise ConfigError(f"data.pde_tasks={cfg.pde_tasks} names an equation twice: list each once")
    x0, targets = None, {}
    for name in names:
        x, y = _cached(_options(cfg.model_copy(update={"pde": name, "pde_coef": None})), _cache_dir(cfg))
        x0 = x if x0 is None else x0
        targets[name] = y
    assert x0 is not None
    if cfg.pde_grid:
        x0 = np.concatenate([x0, _grid(x0.shape[0], x0.shape[2:])], axis=1)
    y = np.concatenate([t.reshape(len(t), -1) for t in targets.values()], axis=1)
    info = DataInfo(
        tuple(x0.shape[1:]),
        0,
        [],
        float_targets=True,
        head_columns={n: int(np.prod(t.shape[1:])) for n, t in targets.items()},
        head_shapes={n: tuple(t.shape[1:]) for n, t in targets.items()},
    )
    xt, yt = torch.from_numpy(x0.astype(np.float32)), torch.from_numpy(y.astype(np.float32))
    return SourceData(train=(xt, yt), info=info)
