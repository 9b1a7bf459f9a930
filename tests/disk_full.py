"""A full disk, simulated for tests: files a module opens for writing accept so many bytes, then fail with ENOSPC
exactly as `write(2)` does on a full file system."""

from __future__ import annotations

import builtins
import errno


class _FillingFile:
    """A file that accepts the bytes left in `room`, then fails like a full disk."""

    def __init__(self, real, room: list[int]):
        self._real, self._room = real, room

    def write(self, data):
        if len(data) > self._room[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room[0] -= len(data)
        return self._real.write(data)

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._real.close()


def fill_disk(monkeypatch, module, room: int = 0) -> None:
    """Files `module` opens for writing (its own `open`) get `room` bytes in all before the disk is full."""
    left = [room]

    def opener(file, mode="r", *args, **kwargs):
        real = builtins.open(file, mode, *args, **kwargs)
        return _FillingFile(real, left) if any(flag in mode for flag in "wax+") else real

    monkeypatch.setattr(module, "open", opener, raising=False)


# --- a real small file system: a tmpfs mounted for the test (root only; skipped with the reason otherwise) ----------
import os  # noqa: E402
import subprocess  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402


@contextmanager
def small_filesystem(folder: Path, megabytes: int = 3):
    """Mount a `megabytes` tmpfs on `folder` for the block; pytest.skip with the reason when mounting is refused."""
    import pytest

    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a small file system needs root to mount a tmpfs")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def write_until_full(path: Path, chunk: int = 256 * 1024) -> None:
    """Write `path` chunk by chunk until the file system refuses (OSError ENOSPC), as a model save would."""
    with builtins.open(path, "wb") as handle:
        while True:
            handle.write(b"\0" * chunk)
            handle.flush()
            os.fsync(handle.fileno())
