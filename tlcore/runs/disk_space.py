"""A full disk as a state of the run, not a traceback: the run is marked failed with "disk full: N MB free, needs
about M MB", and the half-written files it left (a model being saved, a partial export) are removed."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

__all__ = ["PARTIAL_PATTERNS", "is_disk_full_error", "remove_partial_files", "disk_full_message"]

PARTIAL_PATTERNS = (".*.tmp.keras", "*.partial", ".*.partial")  # what atomic writes leave when they fail midway
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_MB = 1_000_000


def is_disk_full_error(error: BaseException | None) -> bool:
    """True when `error` (or what caused it: Keras and TensorFlow wrap OSErrors) is a full disk or used-up quota."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, OSError) and error.errno in _NO_SPACE:
            return True
        if "No space left on device" in str(error) or "Disk quota exceeded" in str(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def remove_partial_files(folder: Path) -> int:
    """Delete the half-written files under `folder`; returns the bytes they took (what the write needed at least)."""
    freed = 0
    for pattern in PARTIAL_PATTERNS:
        for path in folder.rglob(pattern):
            try:
                size = path.stat().st_size
                path.unlink()
            except OSError:
                continue
            freed += size
    return freed


def disk_full_message(folder: Path, partial_bytes: int = 0) -> str:
    """'disk full: N MB free, needs about M MB' for the file system holding `folder`.

    The need is the larger of what the failed write had written and the run's saved model (the next save writes one
    as big), plus 10% margin; at least 1 MB.
    """
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = 0
    model = folder / "model.keras"
    try:
        model_bytes = model.stat().st_size if model.exists() else 0
    except OSError:
        model_bytes = 0
    needs = max(_MB, int(max(partial_bytes, model_bytes) * 1.1))
    return (f"disk full: {free / _MB:,.0f} MB free, needs about {needs / _MB:,.0f} MB. Free space on the server "
            "(Storage page), then resume the run.")
