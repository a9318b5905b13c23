"""The preemption message is printed once per run, by rank 0; every rank still stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from litrain.launch import environment
from litrain.reliability.preemption import Preempted, announce


@pytest.mark.parametrize(("rank_zero", "printed"), [(True, 1), (False, 0)])
def test_only_rank_zero_prints(monkeypatch, capsys, rank_zero: bool, printed: int) -> None:
    monkeypatch.setattr(environment, "is_global_zero", lambda: rank_zero)
    stop = announce(Path("ckpts/last.ckpt"), 7, None)
    assert isinstance(stop, Preempted) and stop.step == 7  # every rank raises it
    err = capsys.readouterr().err
    assert err.count("received: saved") == printed
    if printed:
        assert "a signal on another rank received: saved ckpts/last.ckpt at step 7" in err
