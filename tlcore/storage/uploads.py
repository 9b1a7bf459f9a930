"""Uploaded files kept where a task process can read them: under the cache folder, named by their content."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from tlcore.storage.atomic import write_bytes_atomic, write_json_atomic
from tlcore.storage.paths import cache_root

__all__ = ["keep_upload"]


def keep_upload(data: bytes, folder_name: str, suffix: str, *, what: str = "the upload", owner: str = "") -> Path:
    """Write the bytes once (the same upload twice is stored once); the file appears whole or not at all.

    Raises:
        DiskFull: the disk filled up while writing; the partial file is removed.
    """
    folder = cache_root() / folder_name
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not path.exists():
        write_bytes_atomic(path, data, what=what)
    if owner:  # beside the file: the Storage page and quotas tell whose upload it is
        write_json_atomic(path.with_name(path.name + ".owner.json"), {"owner": owner, "uploaded_at": time.time()})
    return path
