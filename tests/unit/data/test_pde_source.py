"""data.source=pde: shapes, the fields it promises, determinism and the disk cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from litrain.config import DataConfig
from litrain.data import pde as pde_module
from litrain.data.pde import pde
from litrain.errors import ConfigError


def _cfg(tmp_path, **kw) -> DataConfig:
    base = {"source": "pde", "root": str(tmp_path), "num_samples": 16, "pde_resolution": 32}
    return DataConfig(**{**base, **kw})


def test_advection_moves_each_sample_by_speed_times_time(tmp_path):
    # speed 0.25 over t = 1 on 64 points: an exact shift by 16 grid points
    src = pde(_cfg(tmp_path, pde="advection", pde_coef=0.25, pde_resolution=64))
    x, y = src.train
    assert x.shape == (16, 2, 64) and y.shape == (16, 1, 64) and x.dtype == torch.float32
    assert torch.allclose(y[:, 0], torch.roll(x[:, 0], 16, dims=-1), atol=1e-6)
    # the grid channel: x_i = i / L
    assert torch.equal(x[3, 1], torch.arange(64, dtype=torch.float32) / 64)
    info = src.info
    assert info.float_targets and info.input_shape == (2, 64) and info.target_shape == (1, 64)


def test_a_heat_rollout_gives_one_channel_per_time_and_decays(tmp_path):
    x, y = pde(_cfg(tmp_path, pde="heat", pde_steps=4, pde_grid=False)).train
    assert x.shape == (16, 1, 32) and y.shape == (16, 4, 32)
    # each Fourier mode decays by exp(-kappa k^2 dt) per step of dt = 0.25 (kappa 0.01)
    k = 2 * np.pi * np.fft.rfftfreq(32, d=1 / 32)
    modes = np.fft.rfft(y.double().numpy(), axis=-1)
    ratio = np.abs(modes[:, 3, 1:4]) / np.abs(modes[:, 2, 1:4])
    assert np.allclose(ratio, np.exp(-0.01 * k[1:4] ** 2 * 0.25), rtol=1e-4)  # float32 fields


def test_darcy_gives_a_two_valued_coefficient_and_a_pressure_zero_on_the_edge(tmp_path):
    src = pde(_cfg(tmp_path, pde="darcy", num_samples=4))
    x, y = src.train
    assert x.shape == (4, 3, 32, 32) and y.shape == (4, 1, 32, 32)
    assert set(torch.unique(x[:, 0]).tolist()) == {3.0, 12.0}
    assert torch.all(y[:, :, [0, -1], :] == 0) and torch.all(y[:, :, :, [0, -1]] == 0)
    assert torch.all(y[:, :, 1:-1, 1:-1] > 0)  # a positive source and u = 0 outside: u > 0 inside
    axis = torch.from_numpy(np.linspace(0, 1, 32)).float()
    assert torch.equal(x[0, 1, :, 0], axis) and torch.equal(x[0, 2, 0], axis)  # (x, y) coordinates
    assert src.info.target_shape == (1, 32, 32) and not src.info.is_image


def test_the_fields_come_from_pde_seed_only(tmp_path):
    torch.manual_seed(1)
    np.random.seed(1)
    a = pde(_cfg(tmp_path / "a")).train
    torch.manual_seed(2)
    np.random.seed(2)
    b = pde(_cfg(tmp_path / "b")).train
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    c = pde(_cfg(tmp_path / "c", pde_seed=1)).train
    assert not torch.equal(a[0], c[0])


def test_the_second_load_reads_the_cache_file(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, pde="burgers")
    first = pde(cfg).train
    files = list(tmp_path.glob("burgers-*.npz"))
    assert len(files) == 1 and not list(tmp_path.glob(".*tmp"))  # renamed into place, no temp left

    def no_solver(options):
        raise AssertionError("generated again despite the cache")

    monkeypatch.setattr(pde_module, "generate", no_solver)
    second = pde(cfg).train
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    # other options are another file: the cache never serves stale fields
    monkeypatch.undo()
    pde(_cfg(tmp_path, pde="burgers", pde_time=0.5))
    assert len(list(tmp_path.glob("burgers-*.npz"))) == 2


def test_an_unreadable_cache_file_is_generated_again(tmp_path):
    cfg = _cfg(tmp_path, pde="heat")
    first = pde(cfg).train
    (path,) = tmp_path.glob("heat-*.npz")
    path.write_bytes(b"not a zip")
    assert torch.equal(pde(cfg).train[1], first[1])


def test_options_that_do_not_fit_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"darcy is steady: drop data.pde_steps"):
        pde(_cfg(tmp_path, pde="darcy", pde_steps=3))
    with pytest.raises(ConfigError, match=r"no meaning for darcy"):
        pde(_cfg(tmp_path, pde="darcy", pde_coef=2.0))
    with pytest.raises(
        ConfigError, match=r"data.pde_resolution=32 is too coarse for burgers at viscosity 0.002"
    ):
        pde(_cfg(tmp_path, pde="burgers", pde_coef=0.002))
