"""Disk use by kind (runs, tasks, caches, uploads, trash), and pruning the caches that are safe to rebuild.

Caches (features, thumbnails, health, probes, layer tables, TFDS downloads) are rebuilt on demand, so pruning
them loses nothing but time; uploads are kept (a task may be reading one) and are pruned only when old, or
deleted one by one by their owner (tlcore.actions.delete_upload, to the trash).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from tlcore.storage.paths import cache_root, runs_root, studio_home, tasks_root
from tlcore.storage.trash import folder_size, trash_root
from tlcore.storage.uploads import UPLOAD_FOLDERS, owner_file

__all__ = ["UsageRow", "CACHE_KINDS", "disk_use_folders", "disk_usage", "prune_caches", "prune_uploads"]

# kind shown to the user → folder under the cache root
CACHE_KINDS = {"features cache": "features", "thumbnails": "thumbnails", "health cache": "health",
               "probe cache": "probe", "measurements": "measure", "layer tables": "layer_tables",
               "TFDS downloads": "tfds"}


@dataclass(frozen=True)
class UsageRow:
    kind: str
    path: str
    bytes: int
    prunable: bool  # a cache: safe to delete, rebuilt when needed

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


def disk_use_folders() -> dict[str, tuple[Path, bool]]:
    folders: dict[str, tuple[Path, bool]] = {"runs": (runs_root(), False), "tasks": (tasks_root(), False)}
    folders.update({kind: (cache_root() / name, True) for kind, name in CACHE_KINDS.items()})
    folders.update({f"uploads ({name})": (cache_root() / name, False) for name in UPLOAD_FOLDERS})
    folders["uploaded models (custom backbones)"] = (studio_home() / "backbones", False)
    folders["trash"] = (trash_root(), False)
    return folders


def disk_usage() -> list[UsageRow]:
    """One row per kind, in a fixed order (empty kinds included, so the table always reads the same)."""
    return [UsageRow(kind, str(path), folder_size(path) if path.exists() else 0, prunable)
            for kind, (path, prunable) in disk_use_folders().items()]


def prune_caches(kinds: list[str] | None = None) -> int:
    """Delete the chosen caches (default: all of CACHE_KINDS); returns the bytes freed."""
    freed = 0
    for kind in kinds or list(CACHE_KINDS):
        if kind not in CACHE_KINDS:
            raise KeyError(f"'{kind}' is not a cache; caches are {', '.join(CACHE_KINDS)}.")
        folder = cache_root() / CACHE_KINDS[kind]
        if folder.exists():
            freed += folder_size(folder)
            shutil.rmtree(folder, ignore_errors=True)
    return freed


def prune_uploads(older_than_days: float = 7.0) -> int:
    """Delete kept uploads not touched for `older_than_days` (a running task reads only fresh ones); bytes freed."""
    cutoff = time.time() - older_than_days * 86400
    freed = 0
    for name in UPLOAD_FOLDERS:
        folder = cache_root() / name
        for path in folder.glob("*") if folder.exists() else []:
            if path.is_file() and not path.name.endswith(".owner.json") and path.stat().st_mtime < cutoff:
                freed += path.stat().st_size
                path.unlink(missing_ok=True)
                owner_file(path).unlink(missing_ok=True)
    return freed
