"""tlcore.storage.uploads: an upload is kept once, whole or not at all, even on a full disk."""

import pytest

from tests.disk_full import fill_disk
from tlcore.storage import atomic, uploads
from tlcore.storage.atomic import DiskFull
from tlcore.storage.uploads import STREAM_CHUNK_BYTES, keep_upload


def test_the_same_upload_is_stored_once_under_its_content_hash(studio_dirs):
    first = keep_upload(b"zip bytes", "uploads", ".zip")

    assert keep_upload(b"zip bytes", "uploads", ".zip") == first
    assert first.read_bytes() == b"zip bytes" and first.parent == studio_dirs.home / "cache" / "uploads"
    assert [path.name for path in first.parent.iterdir()] == [first.name]


def test_a_full_disk_removes_the_partial_upload_and_says_disk_full(studio_dirs, monkeypatch):
    fill_disk(monkeypatch, atomic, room=10)
    fill_disk(monkeypatch, uploads, room=10)  # the upload itself is streamed by uploads' own writer

    with pytest.raises(DiskFull, match="^Disk full: the zip of images could not be saved"):
        keep_upload(b"x" * 4096, "uploads", ".zip", what="the zip of images")

    folder = studio_dirs.home / "cache" / "uploads"
    assert list(folder.iterdir()) == []  # no .partial left behind


def test_an_owned_upload_is_listed_once_and_pruned_with_its_owner_record(studio_dirs):
    import os

    from tlcore.storage import prune_uploads
    from tlcore.storage.uploads import list_uploads, owner_file

    path = keep_upload(b"zip bytes", "uploads", ".zip", owner="alice@example.com")
    assert [(upload.name, upload.owner) for upload in list_uploads()] == [(path.name, "alice@example.com")]
    os.utime(path, (0, 0))  # untouched for decades
    assert prune_uploads(older_than_days=7) == len(b"zip bytes")
    assert not path.exists() and not owner_file(path).exists() and list_uploads() == []


def test_two_people_uploading_the_same_bytes_each_own_their_copy(studio_dirs):
    """The stored name hashes the owner too: Bob's identical upload neither takes over nor replaces Alice's."""
    from tlcore.storage.uploads import list_uploads

    alices = keep_upload(b"same zip", "uploads", ".zip", owner="alice@example.com", shown_name="a.zip")
    bobs = keep_upload(b"same zip", "uploads", ".zip", owner="bob@example.com", shown_name="b.zip")

    assert alices != bobs and alices.read_bytes() == bobs.read_bytes() == b"same zip"
    assert sorted((upload.name, upload.owner) for upload in list_uploads()) == sorted(
        [(alices.name, "alice@example.com"), (bobs.name, "bob@example.com")])
    assert keep_upload(b"same zip", "uploads", ".zip", owner="alice@example.com") == alices  # still once per owner


class _UploadStream:
    """A file object like Streamlit's UploadedFile that records how much each read asks for and refuses to hand out
    its whole content at once (what `getvalue()` or `read()` with no size would do)."""

    def __init__(self, data: bytes):
        import io

        self._stream, self.asked = io.BytesIO(data), []

    def read(self, size: int = -1) -> bytes:
        assert size is not None and 0 < size <= STREAM_CHUNK_BYTES, f"read({size}): the whole upload at once"
        self.asked.append(size)
        return self._stream.read(size)

    def getvalue(self) -> bytes:
        raise AssertionError("getvalue(): a second full-size copy of the upload in memory")


def test_an_upload_is_streamed_to_disk_in_chunks_and_named_as_its_bytes_would_be(studio_dirs):
    data = bytes(range(256)) * (STREAM_CHUNK_BYTES // 256 * 2 + 7)  # two chunks and a bit
    stream = _UploadStream(data)

    path = keep_upload(stream, "uploads", ".zip", owner="alice@example.com", shown_name="big.zip")

    assert path.read_bytes() == data
    assert len(stream.asked) >= 3  # chunk by chunk, never the whole at once
    assert keep_upload(data, "uploads", ".zip", owner="alice@example.com") == path  # same content, same name
    assert sorted(entry.name for entry in path.parent.iterdir()) == sorted([path.name, path.name + ".owner.json"])


def test_an_upload_stream_already_kept_leaves_no_partial_file(studio_dirs):
    first = keep_upload(_UploadStream(b"zip bytes"), "uploads", ".zip")

    assert keep_upload(_UploadStream(b"zip bytes"), "uploads", ".zip") == first
    assert [entry.name for entry in first.parent.iterdir()] == [first.name]
