"""Crash-safe checkpoint files.

A write is atomic and durable (:mod:`litrain.core.atomic`: temp file beside the target,
fsync, ``os.replace``, directory fsync): a crash at any instant leaves the old file or the
new one, never a torn one. Beside each checkpoint a sidecar
``<name>.sha256`` lists the SHA-256 digests the file may have; a file whose digest is not
listed is corrupt (a truncated copy, a bad disk, an interrupted ``cp``).

Why the sidecar lists *digests* (plural): the checkpoint and its sidecar are two files and
cannot be replaced in one atomic step. Before the checkpoint is replaced the sidecar is
rewritten to accept both the old and the new digest, and after it is replaced the sidecar is
narrowed to the new one, so a crash between any two steps leaves a pair that verifies.
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

from litrain.checkpoint import store_dir
from litrain.checkpoint.fsio import SIDECAR_SUFFIX, sidecar_path
from litrain.core.atomic import TEMP_SUFFIX, atomic_write_bytes, fsync_dir, move_into_place, write_temp
from litrain.errors import CheckpointError

__all__ = [
    "SIDECAR_SUFFIX",
    "TEMP_SUFFIX",
    "atomic_save",
    "atomic_write",
    "atomic_write_bytes",
    "clean_stale_temps",
    "file_digest",
    "fsync_dir",
    "is_valid",
    "newest_valid",
    "read_digests",
    "remove_checkpoint",
    "safe_load",
    "sidecar_path",
    "verify",
]

_CHUNK = 1 << 20  # bytes per read when hashing


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _sidecar_text(digests: list[str], name: str) -> bytes:
    return "".join(f"{d}  {name}\n" for d in dict.fromkeys(digests)).encode()


def read_digests(path: str | Path) -> list[str] | None:
    """The digests the sidecar of ``path`` accepts, or None when there is no sidecar."""
    side = sidecar_path(path)
    try:
        text = side.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"cannot read checksum file {side}: {exc.strerror}") from None
    return [line.split()[0] for line in text.splitlines() if line.strip()]


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None], what: str = "checkpoint") -> str:
    """Write ``path`` crash-safely through ``write(file)``, with its checksum sidecar; the one
    writer every checkpoint-like file goes through (torch checkpoints, consolidated FSDP
    files, safetensors weights). Returns the digest. A failed write (disk full, permission
    denied) raises CheckpointError and leaves the previous file and its sidecar as they were."""
    p = Path(path)
    tmp: Path | None = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = write_temp(p, write)
        digest = file_digest(tmp)
        old = read_digests(p) if p.exists() else None
        if old is not None and p.exists():
            # Accept old and new while the two files are swapped (see the module docstring).
            atomic_write_bytes(sidecar_path(p), _sidecar_text([digest, *old], p.name))
        else:
            atomic_write_bytes(sidecar_path(p), _sidecar_text([digest], p.name))
        move_into_place(tmp, p)
        tmp = None
        atomic_write_bytes(sidecar_path(p), _sidecar_text([digest], p.name))
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
        reason = exc.strerror or str(exc)
        fix = (
            "Earlier checkpoints are intact; free disk space or point checkpoint.dir at a "
            "writable directory, then resume with --resume last"
            if what == "checkpoint"
            else f"Any earlier {p.name} is intact; free disk space or choose a writable path"
        )
        raise CheckpointError(f"cannot save {what} {p}: {reason}. {fix}") from None
    clean_stale_temps(p.parent)
    return digest


def atomic_save(obj: Any, path: str | Path) -> str:
    """``torch.save`` ``obj`` to ``path`` crash-safely, with its checksum sidecar (see
    :func:`atomic_write`). Returns the digest."""
    return atomic_write(path, lambda f: torch.save(obj, f))


def clean_stale_temps(directory: str | Path) -> list[Path]:
    """Remove temp files and dirs a killed writer left in ``directory`` (finishing a sharded
    checkpoint's interrupted swap, see :mod:`litrain.checkpoint.store_dir`); returns what was removed.
    Only litrain's own temp names are touched."""
    d = Path(directory)
    if not d.is_dir():
        return []
    removed = store_dir.recover(d)
    for tmp in d.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def verify(path: str | Path) -> bool | None:
    """True: the file matches its sidecar; False: it does not (corrupt or truncated);
    None: there is no sidecar to check against."""
    digests = read_digests(path)
    if digests is None:
        return None
    try:
        return file_digest(path) in digests
    except FileNotFoundError:
        return False


def _refuse_code(path: Path, exc: Exception) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {path} needs arbitrary pickled code to load, which litrain refuses "
        f"(torch.load weights_only=True; {str(exc).splitlines()[0]}). Re-save it as plain "
        "tensors (a state_dict) from the code that made it"
    )


def verified(path: str | Path, what: str = "checkpoint") -> Path:
    """``path``, once it exists and matches its sidecar (when it has one); else the error
    that says which file is missing or damaged."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist")
    if verify(p) is False:
        raise CheckpointError(
            f"{what} {p} is corrupt: its SHA-256 does not match {sidecar_path(p).name} "
            "(truncated or damaged). Use another checkpoint, e.g. --resume last picks the "
            "newest valid one"
        )
    return p


def safe_load(path: str | Path, map_location: Any = "cpu") -> Any:
    """Verify ``path`` against its sidecar, then ``torch.load(weights_only=True)`` it, with
    an error that names the file for each way this can fail."""
    import pickle

    p = verified(path)
    try:
        return torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise _refuse_code(p, exc) from None
        raise CheckpointError(f"cannot read checkpoint {p} (corrupt, or not a checkpoint): {exc}") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {p}: {exc.strerror or exc}") from None
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"cannot read checkpoint {p} (corrupt, or not a checkpoint): {first}") from None


def is_valid(path: str | Path) -> bool:
    """Whether ``path`` is a whole checkpoint: its sidecar matches, or (without a sidecar)
    it loads; a sharded (FSDP) directory has every shard its ``.metadata`` names."""
    if Path(path).is_dir():
        return store_dir.is_complete(path)
    ok = verify(path)
    if ok is not None:
        return ok
    try:
        safe_load(path)
    except CheckpointError:
        return False
    return True


def newest_valid(directory: str | Path, prefer: str = "last.ckpt") -> Path | None:
    """The newest whole ``*.ckpt`` in ``directory`` (``prefer`` first when it is whole),
    warning about each corrupt file passed over."""
    d = Path(directory)
    if not d.is_dir():
        return None
    found = sorted(d.glob("*.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True)
    found.sort(key=lambda p: p.name != prefer)  # stable: prefer first, then newest first
    for p in found:
        if is_valid(p):
            return p
        warnings.warn(f"checkpoint {p} is corrupt or truncated; falling back to an older one", stacklevel=2)
    return None


def remove_checkpoint(path: str | Path) -> None:
    p = Path(path)
    if p.is_dir():  # sharded (FSDP)
        store_dir.remove(p)
        return
    for f in (p, sidecar_path(p)):
        with contextlib.suppress(FileNotFoundError):
            f.unlink()
