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
