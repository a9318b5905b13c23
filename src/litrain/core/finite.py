"""One cheap finiteness test of a step's loss and gradients, shared by both engines'
non-finite guards. Lightning-free.

The fast path is one foreach kernel: the 2-norm of every float32/64 gradient (float16 and
bfloat16 ones take the max-abs norm, whose result cannot overflow). A NaN or Inf
anywhere makes its norm non-finite, so the fast path never misses one; the norms and the
loss go into one small tensor and one host read (the only sync the test costs). On CPU it is
~15x cheaper than the max-abs norm (a foreach infinity norm of a small MLP's gradients
measured 215 us against 15 us for the 2-norm here).

The squares can overflow on finite gradients (|g| above ~1e19 in float32); only then, when
the fast path says non-finite, the exact per-tensor test decides, so the answer is exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def all_finite(
    tensors: Sequence[torch.Tensor], loss: torch.Tensor | None = None, norms: torch.Tensor | None = None
) -> bool:
    """True when ``loss`` (if given) and every tensor in ``tensors`` hold only finite values.
    ``norms``: one norm per tensor already computed (any order: a NaN/Inf makes each of them
    non-finite), used instead of computing the 2-norms again."""
    checks = [] if loss is None else [loss.detach().float().reshape(1)]
    if norms is not None:
        checks.append(norms.to(checks[0].device) if checks else norms)
        tensors_to_norm: Sequence[torch.Tensor] = []
    else:
        tensors_to_norm = tensors
    wide = [t for t in tensors_to_norm if t.dtype in (torch.float32, torch.float64)]
    narrow = [t for t in tensors_to_norm if t.dtype not in (torch.float32, torch.float64)]
    # float16/bfloat16 squares overflow early: their max-abs norm (exact, never overflows).
    for group, order in ((wide, 2.0), (narrow, math.inf)):
        if group:
            group_norms = torch.stack(torch._foreach_norm(group, order)).float()
            checks.append(group_norms.to(checks[0].device) if checks else group_norms)
    if not checks:
        return True
    if bool(torch.isfinite(torch.cat(checks)).all()):
        return True
    # Non-finite somewhere, or a norm that overflowed: the exact test.
    if loss is not None and not bool(torch.isfinite(loss).all()):
        return False
    return all(bool(torch.isfinite(t).all()) for t in tensors)
