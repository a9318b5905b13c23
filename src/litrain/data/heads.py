"""Per-head labels -> the targets a source hands the DataModule.

One head is plain targets: (N,) int64 class labels, (N, K) 0/1 multilabel targets, or
float32 regression targets. Several heads are packed as the multi-task contract of
``DataInfo`` says: one float32 (N, sum of widths) tensor, the heads' columns in order,
``head_columns`` their widths and ``head_classes`` the class counts of integer heads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from litrain.errors import DataError


@dataclass
class Targets:
    y: torch.Tensor
    num_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    multilabel: bool = False
    float_targets: bool = False
    head_columns: dict[str, int] = field(default_factory=dict)
    head_classes: dict[str, int] = field(default_factory=dict)


def _is_int(a: np.ndarray) -> bool:
    return a.dtype.kind in "iub" or bool(np.all(np.mod(a, 1) == 0))


def pack_targets(
    labels: dict[str, np.ndarray], where: str, names: dict[str, list[str]] | None = None
) -> Targets:
    """The targets of ``labels`` (head name -> per-sample labels); ``where`` names the
    file(s) in errors, ``names`` gives string-labelled heads' class names."""
    names = names or {}
    for head, a in labels.items():
        if a.dtype.kind not in "fiub":
            raise DataError(f"{where}: labels of {head!r} must be numeric, got dtype {a.dtype}")
        if a.ndim not in (1, 2):
            raise DataError(f"{where}: labels of {head!r} have shape {a.shape}; expected (N,) or (N, K)")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            bad = int(np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(1))[0])
            raise DataError(f"{where}: labels of {head!r} hold NaN or Inf (sample {bad})")
        if a.ndim == 1 and _is_int(a) and a.min() < 0:
            raise DataError(f"{where}: labels of {head!r} hold negative values (min {int(a.min())})")
    if len({len(a) for a in labels.values()}) > 1:
        counts = {h: len(a) for h, a in labels.items()}
        raise DataError(f"{where}: the heads have different sample counts {counts}")
    if len(labels) == 1:
        ((head, a),) = labels.items()
        return _single(a, names.get(head), where)
    cols, widths, classes = [], {}, {}
    for head, a in labels.items():
        col = a.reshape(len(a), -1).astype(np.float32)
        cols.append(col)
        widths[head] = col.shape[1]
        if a.ndim == 1 and _is_int(a):
            classes[head] = len(names[head]) if head in names else int(a.max()) + 1
    y = torch.from_numpy(np.concatenate(cols, axis=1))
    return Targets(y, head_columns=widths, head_classes=classes)


def _single(a: np.ndarray, class_names: list[str] | None, where: str) -> Targets:
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 2:
        if not np.isin(a, (0, 1)).all():
            raise DataError(f"{where}: (N, K) multilabel labels must hold only 0 and 1")
        k = int(a.shape[1])
        return Targets(torch.as_tensor(a).long(), k, [str(i) for i in range(k)], multilabel=True)
    if _is_int(a):
        k = len(class_names) if class_names else int(a.max()) + 1
        return Targets(torch.as_tensor(a).long(), k, class_names or [str(i) for i in range(k)])
    return Targets(torch.as_tensor(a, dtype=torch.float32), float_targets=True)
