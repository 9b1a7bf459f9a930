"""Where TL Studio keeps data and runs; every user-supplied path is checked against the data root."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PathOutsideRoot", "studio_home", "data_root", "runs_root", "tasks_root", "cache_root", "keras_models_dir",
    "resolve_dataset_path"
]


class PathOutsideRoot(ValueError):
    """A user asked for a folder outside the configured data root."""


def studio_home() -> Path:
    return Path(os.environ.get("TLSTUDIO_HOME", Path.home() / ".tlstudio")).expanduser()


def data_root() -> Path:
    """Folder under which datasets may be read (env `TLSTUDIO_DATA_ROOT`, default `~/.tlstudio/data`)."""
    root = Path(os.environ.get("TLSTUDIO_DATA_ROOT", studio_home() / "data")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def runs_root() -> Path:
    """Folder holding one sub-folder per run (env `TLSTUDIO_RUNS_DIR`, default `~/.tlstudio/runs`)."""
    root = Path(os.environ.get("TLSTUDIO_RUNS_DIR", studio_home() / "runs")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def tasks_root() -> Path:
    """Folder of background tasks that are not training runs (measurements, probes)."""
    root = studio_home() / "tasks"
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_root() -> Path:
    root = studio_home() / "cache"
    root.mkdir(parents=True, exist_ok=True)
    return root


def keras_models_dir() -> Path:
    """Where Keras looks for downloaded application weights (`$KERAS_HOME/models`, default `~/.keras/models`)."""
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return keras_home / "models"


def resolve_dataset_path(user_path: str | os.PathLike) -> Path:
    """Resolve a path typed by a user (absolute, or relative to the data root) and refuse anything outside the root.

    Symlinks and `..` are resolved first, so neither can escape the root.
    """
    root = data_root()
    candidate = Path(user_path).expanduser()
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve()
    if resolved != root and root not in resolved.parents:
        raise PathOutsideRoot(
            f"'{user_path}' is outside the data root {root}. Put the dataset under the data root "
            f"(or start the app with TLSTUDIO_DATA_ROOT pointing at its parent)."
        )
    return resolved
