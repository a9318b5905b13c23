"""Numerical solvers behind the ``pde`` data source (NumPy float64 and SciPy; no torch).

Domains are the unit interval (periodic) and the unit square (Dirichlet); grids hold the
points ``x_i = i / n`` (periodic, ``i < n``) or ``x_i = i / (n - 1)`` (square, boundary
included).

- ``grf_1d`` / ``grf_2d``: Gaussian random fields with covariance ``sigma^2 (-Laplacian +
  tau^2 I)^-alpha``, drawn in Fourier space (the fields of the FNO paper, Li et al. 2021).
- ``heat`` / ``advection``: exact solutions in Fourier space (each mode decays or turns by its
  own exponential), so a band-limited initial field is solved to rounding error.
- ``burgers``: pseudo-spectral viscous Burgers ``u_t + (u^2/2)_x = nu u_xx`` with 2/3-rule
  dealiasing and an integrating-factor RK4 step (diffusion integrated exactly, the
  nonlinear term 4th order in time).
- ``darcy``: ``-div(a grad u) = f`` with ``u = 0`` on the boundary, 5-point finite
  differences (face coefficients the harmonic mean of the two nodes, which keeps the flux
  continuous across jumps of ``a``), one sparse LU solve per sample.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu


def wavenumbers(n: int) -> np.ndarray:
    """Angular wavenumbers ``2 pi k`` of an ``n``-point periodic grid on [0, 1), rfft order."""
    return 2 * np.pi * np.fft.rfftfreq(n, d=1.0 / n)


def grf_1d(
    rng: np.random.Generator, samples: int, n: int, alpha: float = 2.0, tau: float = 5.0, sigma: float = 25.0
) -> np.ndarray:
    """``samples`` periodic fields on ``n`` points, zero mean, covariance
    ``sigma^2 (-d^2/dx^2 + tau^2)^-alpha`` (the FNO paper's Burgers initial conditions)."""
    k = wavenumbers(n)
    amp = sigma * (k**2 + tau**2) ** (-alpha / 2)
    amp[0] = 0.0  # zero mean: Burgers and advection conserve the mean, it carries nothing
    coef = rng.standard_normal((samples, k.size)) + 1j * rng.standard_normal((samples, k.size))
    # unit-variance complex modes, scaled so the field's pointwise variance is sum(amp^2)
    return np.fft.irfft(coef * amp / math.sqrt(2) * n, n=n)


def grf_2d(
    rng: np.random.Generator, samples: int, n: int, alpha: float = 2.0, tau: float = 3.0
) -> np.ndarray:
    """``samples`` (n, n) fields with covariance ``(-Laplacian + tau^2)^-alpha`` (up to scale;
    the Darcy source only keeps their sign)."""
    kx = 2 * np.pi * np.fft.fftfreq(n, d=1.0 / n)
    ky = wavenumbers(n)
    amp = (kx[:, None] ** 2 + ky[None, :] ** 2 + tau**2) ** (-alpha / 2)
    coef = rng.standard_normal((samples, n, ky.size)) + 1j * rng.standard_normal((samples, n, ky.size))
    return np.fft.irfft2(coef * amp, s=(n, n))


def heat(u0: np.ndarray, kappa: float, times: np.ndarray) -> np.ndarray:
    """``u_t = kappa u_xx`` on the periodic unit interval: (N, n) -> (N, len(times), n)."""
    k = wavenumbers(u0.shape[-1])
    decay = np.exp(-kappa * k[None, :] ** 2 * times[:, None])  # (T, modes)
    return np.fft.irfft(np.fft.rfft(u0)[:, None, :] * decay, n=u0.shape[-1])


def advection(u0: np.ndarray, speed: float, times: np.ndarray) -> np.ndarray:
    """``u_t + c u_x = 0`` on the periodic unit interval (the field moves right by ``c t``):
    (N, n) -> (N, len(times), n)."""
    k = wavenumbers(u0.shape[-1])
    turn = np.exp(-1j * speed * k[None, :] * times[:, None])
    return np.fft.irfft(np.fft.rfft(u0)[:, None, :] * turn, n=u0.shape[-1])


def burgers(u0: np.ndarray, nu: float, times: np.ndarray, cfl: float = 1.0) -> np.ndarray:
    """Viscous Burgers on the periodic unit interval: (N, n) -> (N, len(times), n).

    The time step is ``cfl / (k_max * max|u0|)`` (``max|u|`` never grows for viscous
    Burgers), shortened so that every output time is hit exactly."""
    n = u0.shape[-1]
    k = wavenumbers(n)
    ik = 1j * k
    if n % 2 == 0:
        ik[-1] = 0.0  # the Nyquist mode of an odd derivative is zero on a real grid
    keep = np.abs(np.fft.rfftfreq(n, d=1.0 / n)) < n / 3  # 2/3 rule
    lin = -nu * k**2

    def nonlinear(uh: np.ndarray) -> np.ndarray:
        u = np.fft.irfft(uh, n=n)
        return -0.5 * ik * np.fft.rfft(u * u) * keep

    umax = max(float(np.abs(u0).max()), 1e-12)
    dt_max = cfl / (k[keep].max() * umax)
    uh = np.fft.rfft(u0)
    out = np.empty((u0.shape[0], len(times), n))
    t = 0.0
    for j, t_end in enumerate(times):
        steps = max(1, math.ceil((t_end - t) / dt_max - 1e-9))
        dt = (t_end - t) / steps
        e, e2 = np.exp(lin * dt / 2), np.exp(lin * dt)
        for _ in range(steps):
            k1 = nonlinear(uh)
            k2 = nonlinear(e * (uh + dt / 2 * k1))
            k3 = nonlinear(e * uh + dt / 2 * k2)
            k4 = nonlinear(e2 * uh + dt * e * k3)
            uh = e2 * uh + dt / 6 * (e2 * k1 + 2 * e * (k2 + k3) + k4)
        t = float(t_end)
        out[:, j] = np.fft.irfft(uh, n=n)
    return out


def darcy(a: np.ndarray, f: np.ndarray | float = 1.0) -> np.ndarray:
    """``-div(a grad u) = f`` on the unit square, ``u = 0`` on the boundary.

    ``a``: (n, n) positive coefficients at the grid nodes (boundary included); ``f``: the
    source at the nodes (or a constant). Returns u at the nodes, (n, n), zero on the edge."""
    n = a.shape[-1]
    h = 1.0 / (n - 1)
    m = n - 2  # interior nodes per axis
    f_in = np.broadcast_to(np.asarray(f, dtype=np.float64), a.shape)[1:-1, 1:-1]
    # harmonic means on the faces between neighbouring nodes
    ax = 2 * a[1:, :] * a[:-1, :] / (a[1:, :] + a[:-1, :])  # between (i, j) and (i+1, j)
    ay = 2 * a[:, 1:] * a[:, :-1] / (a[:, 1:] + a[:, :-1])  # between (i, j) and (i, j+1)
    west, east = ax[:-1, 1:-1], ax[1:, 1:-1]  # faces i-1/2 and i+1/2 of interior nodes
    south, north = ay[1:-1, :-1], ay[1:-1, 1:]
    idx = np.arange(m * m).reshape(m, m)
    rows = [idx.ravel()]
    cols = [idx.ravel()]
    vals = [(west + east + south + north).ravel()]
    # off-diagonal couplings to interior neighbours (boundary neighbours are u = 0):
    # (face coefficient, the nodes that have that neighbour, the neighbours)
    a_, b_, all_ = slice(1, None), slice(None, -1), slice(None)
    for coef, here, there in (
        (west, (a_, all_), (b_, all_)),
        (east, (b_, all_), (a_, all_)),
        (south, (all_, a_), (all_, b_)),
        (north, (all_, b_), (all_, a_)),
    ):
        rows.append(idx[here].ravel())
        cols.append(idx[there].ravel())
        vals.append(-coef[here].ravel())
    mat = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m * m, m * m)
    )
    u = np.zeros((n, n))
    u[1:-1, 1:-1] = splu(mat, permc_spec="MMD_AT_PLUS_A").solve(h * h * f_in.ravel()).reshape(m, m)
    return u
