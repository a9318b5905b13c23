"""``optim.lr: auto`` and ``litrain tune lr``: Lightning's LR finder, its plot saved in the
run dir."""

from __future__ import annotations

import math
import sys
from functools import partial
from pathlib import Path
from typing import Any

from lightning.pytorch.tuner import Tuner
from lightning.pytorch.tuner import lr_finder as lr_finder_module

from litrain.core.atomic import atomic_open, atomic_write_json
from litrain.engines.lightning.loaders import trainer_loaders
from litrain.errors import ConfigError


def find_lr(trainer: Any, module: Any, dm: Any, run_dir: Path) -> float:
    """The suggested learning rate; writes plots/lr_finder.png and lr_finder.json (the
    sweep's numbers, drawn by the run report)."""
    # The finder takes 100 steps, which may span several short epochs: lift max_epochs
    # while it runs, or a 1-epoch config would cut the sweep short and skew the suggestion.
    epochs = trainer.fit_loop.max_epochs
    trainer.fit_loop.max_epochs = max(epochs or 1, 1000)
    # Lightning's finder always draws a tqdm bar: none with --quiet (no progress bar) or
    # into a log file (carriage-return updates)
    show = trainer.progress_bar_callback is not None and sys.stderr.isatty()
    bar = lr_finder_module.tqdm
    if not show:
        lr_finder_module.tqdm = partial(bar, disable=True)
    try:
        finder = Tuner(trainer).lr_find(module, update_attr=False, **trainer_loaders(dm, "fit"))
    finally:
        trainer.fit_loop.max_epochs = epochs
        lr_finder_module.tqdm = bar
    if finder is None or finder.suggestion() is None:
        raise ConfigError("the LR finder found no usable learning rate: set optim.lr to a number")
    (run_dir / "plots").mkdir(parents=True, exist_ok=True)
    sweep = {k: [float(v) if math.isfinite(v) else None for v in finder.results[k]] for k in ("lr", "loss")}
    atomic_write_json(run_dir / "lr_finder.json", {**sweep, "suggestion": float(finder.suggestion())})
    fig = finder.plot(suggest=True)
    with atomic_open(run_dir / "plots" / "lr_finder.png", "wb") as f:
        fig.savefig(f, format="png", dpi=80)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return float(finder.suggestion())
