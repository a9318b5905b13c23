"""Device and precision resolution, shared by both engines. Lightning-free, so the native
engine resolves ``auto`` exactly as ``build_trainer`` does."""

from __future__ import annotations

import torch

from litrain.errors import ConfigError


def resolve_accelerator(accelerator: str) -> str:
    if accelerator == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if accelerator == "gpu":
        return "cuda" if torch.cuda.is_available() else "gpu"
    return accelerator


def resolve_precision(precision: str, accelerator: str) -> str:
    """``auto`` picks bf16-mixed on GPUs that support it, else 16-mixed on GPUs, else fp32.
    fp16 on CPU is refused: PyTorch's CPU fp16 autocast is slow and not what anyone means."""
    on_cuda = accelerator in ("cuda", "gpu")
    if precision == "auto":
        if on_cuda and torch.cuda.is_available():
            return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
        return "32-true"
    if accelerator == "cpu" and precision in ("16-mixed", "16-true"):
        raise ConfigError(
            f"trainer.precision={precision} (fp16) is not supported on CPU: "
            "use bf16-mixed or 32-true, or train on a GPU"
        )
    return precision


def drop_useless_nvml_check() -> None:
    """Undo ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` where it cannot help.

    ``import lightning`` sets it so that ``torch.cuda.is_available()`` asks NVML instead of the
    CUDA runtime (which would break a later fork). torch then loads the NVML library again at
    every call, and every ``optimizer.step()`` makes that call (its capture health check):
    ~0.1 ms per step on CPU, as much as a small MLP's whole step costs here. Where NVML cannot
    be loaded at all (no NVIDIA driver), torch falls back to the CUDA runtime's count anyway,
    so the variable only adds that cost: drop it there, and keep it wherever NVML exists."""
    import ctypes
    import os

    if os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK") != "1":
        return
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        del os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"]
