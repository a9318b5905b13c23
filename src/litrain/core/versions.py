"""The versions a run records in summary.json. Read from package metadata, so neither engine
has to import the other's framework to report it."""

from __future__ import annotations

import contextlib
import platform

__version__ = "0.1.0"


def versions() -> dict[str, str]:
    """litrain, python, torch, and lightning/torchmetrics where installed."""
    from importlib import metadata  # here: `import litrain` (and --help) stays instant

    import torch

    out = {"litrain": __version__, "python": platform.python_version(), "torch": torch.__version__}
    for dist in ("lightning", "torchmetrics"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    return out
