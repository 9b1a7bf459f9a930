"""Uploaded files kept where a task process can read them: under the cache folder, named by their content, each
with a small `<file>.owner.json` beside it saying who uploaded it (so its owner or an admin may delete it).

A dataset zip is unpacked into the data root instead (tlcore.storage.archive); who uploaded it is kept outside the
dataset (a file inside would show up in its scan): `$TLSTUDIO_HOME/datasets/uploaded/<folder>.owner.json`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from tlcore.storage.atomic import disk_full_guard, fsync_folder, read_json, write_json_atomic
from tlcore.storage.paths import cache_root, studio_home

__all__ = ["UPLOAD_FOLDERS", "STREAM_CHUNK_BYTES", "Upload", "keep_upload", "copy_in_chunks", "owner_file",
           "list_uploads", "get_upload", "dataset_owner_file", "record_dataset_owner", "dataset_owner"]

# folder under the cache root → what the Storage page and the CLI call an upload kept there
UPLOAD_FOLDERS = {"uploads": "uploaded zip", "external-models": "uploaded model"}
OWNER_SUFFIX = ".owner.json"
STREAM_CHUNK_BYTES = 1024 * 1024  # an upload goes to disk 1 MB at a time: never a second full-size copy in memory


@dataclass(frozen=True)
class Upload:
    """One kept upload: `name` is its file name (the content hash and suffix), unique within its folder."""

    folder: str  # a key of UPLOAD_FOLDERS
    name: str
    path: Path
    owner: str  # "" when it was kept before owners were recorded
    uploaded_at: float
    size_bytes: int
    shown_name: str = ""  # the uploader's file name ("" when not recorded)

    @property
    def kind(self) -> str:
        return UPLOAD_FOLDERS[self.folder]


def keep_upload(source: bytes | IO[bytes], folder_name: str, suffix: str, *, what: str = "the upload",
                owner: str = "", shown_name: str = "") -> Path:
    """Stream the upload to disk once per owner (the same upload twice is stored once); the file appears whole or
    not at all.

    The bytes are copied `STREAM_CHUNK_BYTES` at a time into a temporary file beside the target while they are hashed,
    so a 400 MB zip never needs a second 400 MB in memory (`getvalue()` would); a file object is read from where it
    stands. The name hashes the owner with the bytes: two people uploading the same file each own their copy, so
    neither can delete (or take over) the other's.

    Args:
        source: the bytes, or a binary file object (Streamlit's UploadedFile) read to its end.
        owner: who uploaded it; recorded with `shown_name` (their file name) beside the file, so the Storage page
            can say whose upload it is and which.

    Raises:
        DiskFull: the disk filled up while writing; the partial file is removed.
    """
    folder = cache_root() / folder_name
    digest = hashlib.sha256()
    with disk_full_guard(what):
        folder.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=folder, prefix=".upload.", suffix=".partial")
        try:
            with open(fd, "wb") as handle:
                copy_in_chunks(source, handle, digest.update)
                handle.flush()
                os.fsync(handle.fileno())
            if owner:
                digest.update(b"\0owner:" + owner.encode("utf-8"))
            path = folder / f"{digest.hexdigest()[:16]}{suffix}"
            if path.exists():
                os.unlink(partial)  # stored before: the copy on disk is the same bytes
            else:
                os.replace(partial, path)
                fsync_folder(folder)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    if owner:
        write_json_atomic(owner_file(path), {"owner": owner, "uploaded_at": time.time(), "name": shown_name},
                          what=what)
    return path


def copy_in_chunks(source: bytes | IO[bytes], target: BinaryIO, on_chunk=None,
                   chunk_bytes: int = STREAM_CHUNK_BYTES) -> int:
    """Copy bytes or a file object into `target` `chunk_bytes` at a time (calling `on_chunk` with each piece, e.g. a
    hash's update); returns how many bytes were copied."""
    view = memoryview(source) if isinstance(source, (bytes, bytearray, memoryview)) else None
    copied = 0
    while True:
        piece = view[copied:copied + chunk_bytes] if view is not None else source.read(chunk_bytes)
        if not piece:
            return copied
        target.write(piece)
        if on_chunk is not None:
            on_chunk(piece)
        copied += len(piece)


def owner_file(path: Path) -> Path:
    """Where an upload's owner is recorded (moved to the trash and back with the upload itself)."""
    return path.with_name(path.name + OWNER_SUFFIX)


def list_uploads() -> list[Upload]:
    """Every kept upload (zips for batch prediction, external models), newest first."""
    uploads = []
    for folder_name in UPLOAD_FOLDERS:
        folder = cache_root() / folder_name
        for path in folder.glob("*") if folder.exists() else []:
            if path.is_file() and not path.name.endswith(OWNER_SUFFIX) and not path.name.endswith(".partial"):
                uploads.append(_upload(folder_name, path))
    return sorted(uploads, key=lambda upload: upload.uploaded_at, reverse=True)


def get_upload(name: str) -> Upload:
    """The upload with this file name (as `list_uploads` shows it).

    Raises:
        KeyError: no such upload.
    """
    for upload in list_uploads():
        if upload.name == name:
            return upload
    raise KeyError(f"No uploaded zip or model '{name}'; `python -m tlcore delete --list` shows them.")


def dataset_owner_file(folder_name: str) -> Path:
    """Where the uploader of the dataset folder `folder_name` (a folder directly under the data root) is kept."""
    return studio_home() / "datasets" / "uploaded" / f"{Path(folder_name).name}{OWNER_SUFFIX}"


def record_dataset_owner(folder_name: str, owner: str) -> None:
    write_json_atomic(dataset_owner_file(folder_name), {"owner": owner, "uploaded_at": time.time()})


def dataset_owner(folder_name: str) -> str:
    """Who uploaded this dataset folder; "" when it was put there another way (copied in by an admin, TFDS)."""
    try:
        record = read_json(dataset_owner_file(folder_name), {})
    except (OSError, ValueError):
        return ""
    return str(record.get("owner") or "") if isinstance(record, dict) else ""


def _upload(folder_name: str, path: Path) -> Upload:
    try:
        record = read_json(owner_file(path), {})
    except (OSError, ValueError):  # a damaged owner file: the upload is still listed, as an admin's to delete
        record = {}
    record = record if isinstance(record, dict) else {}
    stat = path.stat()
    return Upload(folder=folder_name, name=path.name, path=path, owner=str(record.get("owner") or ""),
                  uploaded_at=float(record.get("uploaded_at") or stat.st_mtime), size_bytes=stat.st_size,
                  shown_name=str(record.get("name") or ""))
