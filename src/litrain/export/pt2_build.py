"""A module -> an AOTInductor package (.pt2): ``torch.export`` (non-strict) with a dynamic
batch axis, compiled ahead of time by ``torch._inductor.aoti_compile_and_package`` with
litrain's metadata inside (``aoti_load_package(...).get_metadata()``)."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from litrain.errors import ConfigError
from litrain.export.onnx_build import cannot_export


def to_pt2(
    module: nn.Module, example: Tensor, path: Path, metadata: dict[str, str], quiet: bool = False
) -> Path:
    """Compile ``module`` into the package ``path`` (a .pt2 name)."""
    if not any(shutil.which(c) for c in (os.environ.get("CXX", "g++"), "g++", "c++", "clang++")):
        raise ConfigError(
            "--format pt2 compiles the model to C++ with AOTInductor and no C++ compiler is on "
            "PATH: install one (e.g. apt-get install g++) or export --format onnx"
        )
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            program = torch.export.export(
                module, (example,), dynamic_shapes=({0: torch.export.Dim("batch", min=1)},), strict=False
            )
        except Exception as exc:  # torch.export's errors are many types; all mean "cannot capture"
            raise ConfigError(cannot_export(exc, "pt2")) from None
        if not quiet:
            print(
                "litrain: compiling the .pt2 package with AOTInductor (minutes on a small CPU) ...",
                flush=True,
            )
        configs = {"aot_inductor.metadata": dict(metadata)}
        return Path(
            torch._inductor.aoti_compile_and_package(
                program, package_path=str(path), inductor_configs=configs
            )
        )
