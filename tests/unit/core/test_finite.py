"""litrain.core.finite.all_finite: the NaN guard's one check per step."""

from __future__ import annotations

import pytest
import torch

from litrain.core.finite import all_finite


def grads(dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(shape, generator=g).to(dtype) for shape in ((256, 64), (256,), (7,), (10, 128))]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_a_non_finite_gradient_anywhere_is_caught(dtype: torch.dtype, bad: float, which: int) -> None:
    ts = grads(dtype)
    assert all_finite(ts, torch.tensor(1.0))
    ts[which].view(-1)[ts[which].numel() // 2] = bad
    assert not all_finite(ts, torch.tensor(1.0))
    assert not all_finite(ts)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_loss_is_caught(bad: float) -> None:
    assert not all_finite(grads(), torch.tensor(bad))
    assert not all_finite([], torch.tensor(bad))


def test_huge_finite_gradients_whose_norm_overflows_are_finite() -> None:
    ts = [torch.full((100,), 1e30), torch.full((3,), 6e4, dtype=torch.float16)]
    assert not torch.isfinite(torch.linalg.vector_norm(ts[0]))  # the fast path overflows
    assert all_finite(ts, torch.tensor(2.0))


def test_nothing_to_check_is_finite() -> None:
    assert all_finite([])
    assert all_finite([], torch.tensor(0.5))


def test_norms_already_computed_decide_without_a_second_pass() -> None:
    ts = grads()
    norms = torch.stack(torch._foreach_norm(ts, 1.0))
    assert all_finite(ts, torch.tensor(1.0), norms)
    ts[2][3] = float("nan")
    bad = torch.stack(torch._foreach_norm(ts, 1.0))
    assert not all_finite(ts, torch.tensor(1.0), bad)
