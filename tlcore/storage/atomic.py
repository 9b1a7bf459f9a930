"""Atomic, durable file writes: a reader (a page, `cat`) never sees a half-written file, a crash or a full disk
never loses the previous one.

The bytes go to a temporary file in the same folder, which is fsynced, renamed over the target, and then the folder
itself is fsynced so the rename survives a power cut. On any failure the temporary file is removed.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

__all__ = ["DiskFull", "is_disk_full", "disk_full_guard", "write_bytes_atomic", "write_text_atomic",
           "write_json_atomic", "read_json", "fsync_folder"]

_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})  # a full disk, or the user's quota used up


class DiskFull(OSError):
    """No space left (ENOSPC or quota): nothing was half-written; the message says what could not be saved."""

    def __init__(self, what: str):
        super().__init__(errno.ENOSPC, f"Disk full: {what} could not be saved (nothing was half-written). Free some "
                                       "space on the server and try again.")

    def __str__(self) -> str:
        return self.strerror


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in _NO_SPACE


@contextmanager
def disk_full_guard(what: str) -> Iterator[None]:
    """`with disk_full_guard("the upload"):` turns ENOSPC/EDQUOT raised inside into DiskFull naming `what`."""
    try:
        yield
    except OSError as error:
        if is_disk_full(error) and not isinstance(error, DiskFull):
            raise DiskFull(what) from error
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, what: str = "a file") -> None:
    """Write to a temp file in the same folder, fsync it, `os.replace` it over the target, fsync the folder.

    Raises:
        DiskFull: the disk filled up; the previous file (if any) is untouched and no temporary file is left.
    """
    target = Path(path)
    with disk_full_guard(what):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        try:
            with open(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_folder(target.parent)


def write_text_atomic(path: str | os.PathLike, text: str, *, what: str = "a file") -> None:
    write_bytes_atomic(path, text.encode("utf-8"), what=what)


def write_json_atomic(path: str | os.PathLike, data: Any, *, what: str = "a file") -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", what=what)


def read_json(path: str | os.PathLike, default: Any = None) -> Any:
    """Read JSON; a missing file gives `default` (files are replaced atomically, so never partial)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make a rename or a new entry in `folder` durable; file systems that cannot fsync a folder are left be."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as error:
        if is_disk_full(error):
            raise
    finally:
        os.close(fd)
