"""Uploaded files kept where a task process can read them: under the cache folder, named by their content."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tlcore.storage.paths import cache_root

__all__ = ["keep_upload"]


def keep_upload(data: bytes, folder_name: str, suffix: str) -> Path:
    """Write the bytes once (the same upload twice is stored once); the file appears whole or not at all."""
    folder = cache_root() / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not path.exists():
        staging = path.with_suffix(".partial")
        staging.write_bytes(data)
        staging.replace(path)
    return path
