"""Lightning's BatchSizeFinder in trainer.callbacks is refused in one line that points to
litrain's own finder (it resizes the loaders behind the run's back and breaks on them)."""

from __future__ import annotations

import pytest

from litrain.config import load_config
from litrain.engines.lightning.trainer import build_callbacks
from litrain.errors import ConfigError


@pytest.mark.parametrize(
    "path", ["lightning.pytorch.callbacks.BatchSizeFinder", "lightning.pytorch.callbacks:BatchSizeFinder"]
)
def test_lightnings_batch_size_finder_points_to_litrains(tmp_path, path):
    # the monitor and mode as build_parts resolves them for the default task
    sets = {
        "checkpoint.monitor": "val/acc",
        "checkpoint.mode": "max",
        "trainer.callbacks": [{"class_path": path}],
    }
    cfg = load_config(overrides=sets)
    with pytest.raises(ConfigError) as exc:
        build_callbacks(cfg, tmp_path, quiet=True)
    msg = str(exc.value)
    assert (
        "litrain finds the batch size itself: set data.batch_size=auto or run `litrain tune batch-size`"
        in msg
    )
    assert "\n" not in msg
