"""Device and precision resolution, shared by both engines. Lightning-free, so the native
engine resolves ``auto`` exactly as ``build_trainer`` does, and the CLI checks devices and
precision (``check_hardware``) before any engine, and Lightning, is imported. torch is
imported only where a check needs it (``--accelerator cpu`` needs none)."""

from __future__ import annotations

import os
from typing import Any

from litrain.errors import ConfigError

NO_GPU = "trainer.accelerator=gpu but no CUDA GPU is visible: use --accelerator cpu"


def _torch() -> Any:
    import torch  # here, not at the top: `--accelerator cpu` checks need no torch

    return torch


def _mps_available() -> bool:
    torch = _torch()
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_accelerator(accelerator: str) -> str:
    if accelerator == "auto":
        if _torch().cuda.is_available():
            return "cuda"
        if _mps_available():
            return "mps"
        return "cpu"
    if accelerator == "gpu":
        return "cuda" if _torch().cuda.is_available() else "gpu"
    return accelerator


def resolve_precision(precision: str, accelerator: str) -> str:
    """``auto`` picks bf16-mixed on GPUs that support it, else 16-mixed on GPUs, else fp32.
    fp16 on CPU is refused: PyTorch's CPU fp16 autocast is slow and not what anyone means."""
    on_cuda = accelerator in ("cuda", "gpu")
    if precision == "auto":
        if on_cuda and _torch().cuda.is_available():
            return "bf16-mixed" if _torch().cuda.is_bf16_supported() else "16-mixed"
        return "32-true"
    if accelerator == "cpu" and precision in ("16-mixed", "16-true"):
        raise ConfigError(
            f"trainer.precision={precision} (fp16) is not supported on CPU: "
            "use bf16-mixed or 32-true, or train on a GPU"
        )
    return precision


def check_available(accelerator: str) -> None:
    """The (resolved) accelerator exists on this machine: a CUDA GPU for cuda/gpu, MPS for mps."""
    if accelerator in ("cuda", "gpu") and not _torch().cuda.is_available():
        raise ConfigError(NO_GPU)
    if accelerator == "mps" and not _mps_available():
        raise ConfigError("trainer.accelerator=mps but MPS is not available here: use --accelerator cpu")


def check_devices(accelerator: str, devices: int | str) -> None:
    """``trainer.devices`` no larger than what the (resolved) accelerator has here."""
    if devices == "auto":
        return
    if accelerator in ("cuda", "gpu"):
        available = _torch().cuda.device_count()
        if available == 0:
            raise ConfigError(NO_GPU)
        what = "CUDA GPUs"
    elif accelerator == "cpu":
        available, what = os.cpu_count() or 1, "CPU cores"
    else:
        return
    if int(devices) > available:
        raise ConfigError(
            f"trainer.devices={devices} but this machine has {available} {what}: "
            f"use --devices {available} or fewer"
        )


def check_hardware(accelerator: str, devices: int | str, precision: str) -> str:
    """Refuse what this machine cannot run (no GPU for ``gpu``, too many devices, fp16 on CPU)
    and return the resolved accelerator. Cheap and Lightning-free: the CLI calls it before
    importing an engine, so such an error appears at once."""
    # Ask NVML, not the CUDA runtime, whether GPUs exist (as `import lightning` makes torch
    # do): a check made before an engine starts must not initialise CUDA (fork safety).
    # Restored after, since where NVML is missing the variable only costs time per step.
    before = os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK")
    os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"
    try:
        accel = resolve_accelerator(accelerator)
        check_available(accel)
        check_devices(accel, devices)
        resolve_precision(precision, accel)
        return accel
    finally:
        if before is None:
            del os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"]
        else:
            os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = before


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
