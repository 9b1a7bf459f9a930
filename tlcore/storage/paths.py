"""Where TL Studio keeps data and runs; every user-supplied path is checked against the data root."""

from __future__ import annotations

import logging
import errno
import os
from pathlib import Path

__all__ = [
    "MAX_NAME_BYTES", "MAX_PATH_BYTES", "PathOutsideRoot", "UnusablePath", "studio_home", "data_root", "runs_root",
    "tasks_root", "cache_root", "keras_models_dir", "shown_name", "is_inside", "resolve_dataset_path",
    "resolve_inside_root"
]

_log = logging.getLogger(__name__)  # details for admins (server folders), never shown on a page

MAX_NAME_BYTES = 255  # one file or folder name (NAME_MAX on Linux, macOS and Windows alike)
MAX_PATH_BYTES = 4096  # a whole path (PATH_MAX on Linux)


class PathOutsideRoot(ValueError):
    """A user asked for a folder outside the configured data root."""


class UnusablePath(PathOutsideRoot):
    """A path no folder under the data root can have: a NUL byte, a name too long, a symlink loop.

    A kind of PathOutsideRoot because every caller that refuses outside paths must refuse these as well.
    """


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


def shown_name(text: str | os.PathLike, limit: int = 240) -> str:
    """User text quoted for a message: control characters made visible, long text cut ('abc…' (5,000 characters))."""
    text = os.fspath(text)
    visible = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    if len(visible) <= limit:
        return f"'{visible}'"
    return f"'{visible[:limit]}…' ({len(text):,} characters)"


def is_inside(path: Path, root: Path) -> bool:
    """True when the already resolved `path` is `root` or below it."""
    return path == root or root in path.parents


def resolve_dataset_path(user_path: str | os.PathLike) -> Path:
    """Resolve a path typed by a user (absolute, or relative to the data root) and refuse anything outside the root.

    Symlinks and `..` are resolved first, so neither can escape the root. Names no file system accepts (a NUL byte,
    more than 255 bytes in one name) and symlink loops are refused with a message, never an OSError.
    """
    root = data_root()
    _check_name(user_path)
    candidate = Path(user_path).expanduser()
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = _resolve(candidate, user_path)
    if not is_inside(resolved, root):
        _log.info("refused %s: outside the data root %s", resolved, root)
        raise PathOutsideRoot(
            f"{shown_name(user_path)} is outside the data root (the folder this server reads datasets from). Give "
            "a folder under it, as the Dataset page lists them, or ask the server's admin to move the data root."
        )
    return resolved


def resolve_inside_root(path: Path, root: Path | None = None) -> Path:
    """The real location of a file about to be read, refused unless it is inside the data root.

    Checked again at read time because a link can change between listing a dataset and reading it.
    """
    root = root or data_root()
    resolved = _resolve(path, path.name)
    if not is_inside(resolved, root):
        raise PathOutsideRoot(f"{shown_name(path.name)} links to a place outside the data root; it is not read.")
    return resolved


def _check_name(user_path: str | os.PathLike) -> None:
    text = os.fspath(user_path)
    if "\0" in text:
        raise UnusablePath(f"{shown_name(text)} is not a usable folder name: it holds a NUL byte (\\0), which no "
                           "file name can contain.")
    encoded = text.encode("utf-8", "surrogateescape")
    longest = max((len(part) for part in encoded.split(b"/")), default=0)
    if longest > MAX_NAME_BYTES or len(encoded) > MAX_PATH_BYTES:
        raise UnusablePath(f"{shown_name(text)} is not a usable folder name: it is too long (file systems allow "
                           f"{MAX_NAME_BYTES} bytes per name, {MAX_PATH_BYTES:,} per path).")


def _resolve(candidate: Path, user_path: str | os.PathLike) -> Path:
    try:
        return candidate.resolve()
    except (RuntimeError, OSError) as error:  # Python 3.11 reports a symlink loop as RuntimeError, 3.13 as ELOOP
        if isinstance(error, RuntimeError) or error.errno == errno.ELOOP:
            raise UnusablePath(f"{shown_name(user_path)} is a symbolic link that leads back to itself (a loop).") \
                from error
        raise UnusablePath(f"{shown_name(user_path)} cannot be opened ({error.strerror}).") from error
