"""keep_freed_heap: stop glibc handing a CPU training step's memory back to the kernel each step.

A CPU training step frees most of what it allocated (activations, gradients of the
activations, FFT buffers) before the next step allocates the same sizes again. With glibc's
default malloc settings the freed top of the heap is returned to the kernel (``brk`` shrinks)
once it exceeds a trim threshold, and the next step faults every page of it back in, zeroed:
on the operator recipe's FNO that was 50-135 thousand page faults an epoch, 0.1-0.3 s of
system time and slower kernels behind it. glibc moves both thresholds with the process's
allocation history (each freed ``mmap`` chunk raises them), so two processes running the
same loop can differ by 2x in faults: the Lightning engine's processes came out at the high
end (a likely part of its ~1.2x per-epoch cost over the native engine on that recipe; the
ratio is still to be measured on a quiet machine, benchmarks/RESULTS.md).

Fixed thresholds make a step reuse the pages the last step freed: the heap stays at its
peak (the working set the next step needs anyway) and blocks above 32 MiB keep their own
``mmap``, as before. Done once per process, only on glibc, and not where the user already
chose (a ``MALLOC_*`` environment setting or another allocator preloaded)."""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest (its dynamic threshold's ceiling on 64-bit)
TRIM_THRESHOLD = 256 * 2**20  # free heap top kept before any is given back

_done = False


def keep_freed_heap() -> bool:
    """Fix glibc's trim and mmap thresholds for this process; True if they were set."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or _user_chose_allocator():
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only: musl's mallopt does nothing  # noqa: B018
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _done


def _user_chose_allocator() -> bool:
    if any(key.startswith("MALLOC_") or key.startswith("GLIBC_TUNABLES") for key in os.environ):
        return True
    preload = os.environ.get("LD_PRELOAD", "")
    return any(name in preload for name in ("jemalloc", "tcmalloc", "mimalloc"))
