"""tlcore.storage.atomic: a write is durable (file and folder fsynced) and a full disk loses nothing."""

import errno
import os
import stat

import pytest

from tests.disk_full import fill_disk
from tlcore.storage import atomic
from tlcore.storage.atomic import DiskFull, read_json, write_json_atomic, write_text_atomic


def test_a_write_fsyncs_the_file_and_then_its_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)

    write_text_atomic(tmp_path / "status.json", "{}")

    assert synced == ["file", "folder"]  # the folder after the rename, so the new name survives a power cut
    assert (tmp_path / "status.json").read_text() == "{}"


def test_a_full_disk_keeps_the_previous_file_and_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "files" / "settings.json"
    write_json_atomic(target, {"seed": 1})
    fill_disk(monkeypatch, atomic, room=3)

    with pytest.raises(DiskFull) as full:
        write_json_atomic(target, {"seed": 2, "padding": "x" * 1000}, what="the dataset's settings")

    assert str(full.value) == ("Disk full: the dataset's settings could not be saved (nothing was half-written). "
                               "Free some space on the server and try again.")
    assert full.value.errno == errno.ENOSPC and isinstance(full.value, OSError)
    assert read_json(target) == {"seed": 1}
    assert sorted(path.name for path in target.parent.iterdir()) == ["settings.json"]


def test_a_full_disk_found_only_at_fsync_is_a_disk_full_too(tmp_path, monkeypatch):
    # Delayed allocation: ext4 and XFS report ENOSPC when the data is flushed, not when it is written.
    def full_fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_fsync)

    with pytest.raises(DiskFull):
        write_text_atomic(tmp_path / "files" / "a.txt", "new")
    assert list((tmp_path / "files").iterdir()) == []
