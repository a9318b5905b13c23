"""The pde source's solvers against exact solutions and under refinement."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from litrain.data import pde_solvers as S


def _x(n: int) -> np.ndarray:
    return np.arange(n) / n


def test_heat_matches_the_analytic_decay_of_each_mode():
    x, kappa, t = _x(64), 0.01, np.array([0.5, 1.0])
    u0 = np.sin(2 * np.pi * x) + 0.5 * np.cos(6 * np.pi * x)
    exact = np.exp(-kappa * (2 * np.pi) ** 2 * t)[:, None] * np.sin(2 * np.pi * x) + 0.5 * np.exp(
        -kappa * (6 * np.pi) ** 2 * t
    )[:, None] * np.cos(6 * np.pi * x)
    assert np.abs(S.heat(u0[None], kappa, t)[0] - exact).max() < 1e-14


def test_advection_moves_the_field_by_speed_times_time():
    x, c, t = _x(64), 0.3, np.array([0.5, 1.0])
    f = lambda s: np.sin(2 * np.pi * s) + 0.5 * np.cos(6 * np.pi * s)  # noqa: E731
    exact = f(x[None, :] - c * t[:, None])
    assert np.abs(S.advection(f(x)[None], c, t)[0] - exact).max() < 1e-13


def _cole_hopf(x: np.ndarray, t: float, nu: float, a: float = 1.2) -> np.ndarray:
    """Exact viscous Burgers solution u = -2 nu phi_x / phi, phi = a + exp(-4 pi^2 nu t) cos(2 pi x)."""
    e = np.exp(-nu * 4 * np.pi**2 * t)
    return 4 * np.pi * nu * e * np.sin(2 * np.pi * x) / (a + e * np.cos(2 * np.pi * x))


def test_burgers_matches_the_cole_hopf_solution():
    # max|u0| = 1.9 with fronts: the nonlinear term matters, and the solver is exact to 5e-8 (max|u| 1.9)
    nu, x = 0.1, _x(64)
    u = S.burgers(_cole_hopf(x, 0.0, nu)[None], nu, np.array([0.5, 1.0]))[0]
    for row, t in zip(u, (0.5, 1.0), strict=True):
        assert np.abs(row - _cole_hopf(x, t, nu)).max() < 5e-8


def test_burgers_converges_at_fourth_order_in_time():
    nu, x, t = 0.1, _x(64), np.array([1.0])
    u0 = _cole_hopf(x, 0.0, nu)[None]
    errors = [np.abs(S.burgers(u0, nu, t, cfl=c)[0, 0] - _cole_hopf(x, 1.0, nu)).max() for c in (1.0, 0.5)]
    assert 10 < errors[0] / errors[1] < 24  # 2**4 = 16 for a 4th-order step


def test_burgers_on_random_fields_agrees_with_a_finer_grid():
    # the same band-limited initial field on 64 and 256 points (spectral interpolation)
    n, m, nu = 64, 256, 0.1
    u0 = S.grf_1d(np.random.default_rng(0), 8, n)
    fine = np.zeros((8, m // 2 + 1), complex)
    fine[:, : n // 2 + 1] = np.fft.rfft(u0)
    fine[:, n // 2] *= 0.5  # the coarse Nyquist mode splits into +-n/2 on the fine grid
    u0_fine = np.fft.irfft(fine * (m / n), n=m)
    assert np.allclose(u0_fine[:, :: m // n], u0, atol=1e-12)
    coarse = S.burgers(u0, nu, np.array([1.0]))[:, 0]
    ref = S.burgers(u0_fine, nu, np.array([1.0]))[:, 0, :: m // n]
    rel = np.linalg.norm(coarse - ref, axis=-1) / np.linalg.norm(ref, axis=-1)
    assert rel.max() < 2e-6


def _manufactured(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """a = 1 + sin(pi x) cos(pi y) / 2, u = sin(pi x) sin(pi y), f = -div(a grad u)."""
    s = np.linspace(0.0, 1.0, n)
    x, y = np.meshgrid(s, s, indexing="ij")
    pi = np.pi
    a = 1 + 0.5 * np.sin(pi * x) * np.cos(pi * y)
    u = np.sin(pi * x) * np.sin(pi * y)
    a_x, a_y = 0.5 * pi * np.cos(pi * x) * np.cos(pi * y), -0.5 * pi * np.sin(pi * x) * np.sin(pi * y)
    u_x, u_y = pi * np.cos(pi * x) * np.sin(pi * y), pi * np.sin(pi * x) * np.cos(pi * y)
    f = -(a_x * u_x + a_y * u_y - 2 * pi**2 * a * u)
    return a, f, u


def test_darcy_is_second_order_on_a_manufactured_solution():
    errors = []
    for n in (17, 33, 65):
        a, f, u = _manufactured(n)
        got = S.darcy(a, f)
        errors.append(np.abs(got - u).max())
        assert np.all(got[[0, -1], :] == 0) and np.all(got[:, [0, -1]] == 0)
    assert errors[-1] < 3e-4
    for coarse, fine in itertools.pairwise(errors):
        assert coarse / fine == pytest.approx(4.0, rel=0.05)


def test_darcy_with_a_constant_coefficient_scales_as_one_over_a():
    # -div(a grad u) = 1 with constant a: u = u_1 / a, exactly, also in the discrete system
    a = np.ones((33, 33))
    assert np.allclose(S.darcy(12 * a), S.darcy(a) / 12, rtol=1e-12, atol=1e-16)
    # the Poisson solution on the unit square peaks at 0.07367 in the centre
    assert S.darcy(a)[16, 16] == pytest.approx(0.07367, abs=2e-4)


def test_grf_has_the_covariance_it_is_drawn_with():
    n, k = 64, S.wavenumbers(64)
    amp = 25.0 * (k**2 + 25.0) ** -1.0
    amp[0] = 0
    u = S.grf_1d(np.random.default_rng(1), 4000, n)
    # pointwise variance = sum over +-k of amp^2 (the Nyquist mode once)
    expected = amp[0] ** 2 + 2 * (amp[1:-1] ** 2).sum() + amp[-1] ** 2 / 2
    assert u.var(axis=0).mean() == pytest.approx(expected, rel=0.03)
