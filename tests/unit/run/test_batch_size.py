"""The batch-size finder's search and the global batch's split (run/batch_size.py), pure."""

from __future__ import annotations

import pytest

from litrain.errors import ConfigError
from litrain.run.batch_size import largest, split_global


@pytest.mark.parametrize(
    ("limit", "cap", "found"),
    [(100, 1000, 100), (1, 1000, 1), (0, 1000, 0), (5000, 1000, 1000), (64, 64, 64)],
)
def test_the_search_finds_the_largest_size_that_fits(limit, cap, found):
    tried: list[int] = []

    def fits(n):
        tried.append(n)
        return n <= limit

    assert largest(fits, cap) == found
    assert all(n <= cap for n in tried) and len(tried) <= 2 * cap.bit_length() + 2  # doubling, then bisection


@pytest.mark.parametrize(
    ("target", "most", "world", "exact", "split"),
    [
        (256, 90, 1, False, (64, 4)),
        (256, 90, 2, False, (64, 2)),
        (96, 90, 2, False, (48, 1)),
        (120, 50, 1, False, (40, 3)),
        (256, 64, 2, True, (64, 2)),
    ],
)
def test_the_global_batch_is_per_device_times_devices_times_accumulation(target, most, world, exact, split):
    batch, acc = split_global(target, most, world, exact)
    assert (batch, acc) == split and batch * world * acc == target and batch <= most


def test_a_global_batch_the_fixed_batch_cannot_make_up_is_one_line():
    with pytest.raises(
        ConfigError, match=r"global_batch_size=100 is not a multiple of data.batch_size=64 x 1"
    ):
        split_global(100, 64, 1, exact=True)
    with pytest.raises(ConfigError, match="not a multiple of the 3 devices"):
        split_global(100, 64, 3, exact=False)
