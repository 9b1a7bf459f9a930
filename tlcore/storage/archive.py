"""Unpack an uploaded .zip into the data root without trusting it: no path escapes, no zip bombs, no half-written
dataset.

Every entry is checked before anything is written; sizes are then enforced again while copying, because a zip's
declared sizes can lie. Extraction goes to a hidden temporary folder renamed into place only when complete.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from tlcore.storage.paths import data_root

__all__ = ["MAX_TOTAL_BYTES", "MAX_FILES", "MAX_RATIO", "ArchiveError", "dataset_name_for", "extract_zip"]

MAX_TOTAL_BYTES = int(os.environ.get("TLSTUDIO_ZIP_MAX_BYTES", 4 * 1024**3))  # uncompressed
MAX_FILES = int(os.environ.get("TLSTUDIO_ZIP_MAX_FILES", 200_000))
MAX_RATIO = 200  # uncompressed / compressed per entry; images barely compress, bombs compress ~1000×
_CHUNK = 1 << 20
_IGNORED_TOP = ("__MACOSX",)  # resource forks macOS adds to every zip it makes


class ArchiveError(ValueError):
    """The zip is refused; the message says why in a user's words."""


def dataset_name_for(filename: str) -> str:
    """A safe folder name from the uploaded file's name ("My pets (2).zip" → "My-pets-2")."""
    stem = Path(filename).stem
    name = re.sub(r"[^\w.-]+", "-", stem, flags=re.UNICODE).strip("-.")
    return name or "uploaded"


def extract_zip(source: str | os.PathLike | IO[bytes], name: str, *, max_total_bytes: int | None = None,
                max_files: int | None = None) -> Path:
    """Extract into `data_root()/name` and return the dataset folder (the single top folder when the zip has one).

    Refuses: absolute or `..` entries, more than `max_files` files, more than `max_total_bytes` uncompressed, entries
    that compress suspiciously well, and a name that already exists.
    """
    max_total_bytes = MAX_TOTAL_BYTES if max_total_bytes is None else max_total_bytes
    max_files = MAX_FILES if max_files is None else max_files
    name = dataset_name_for(name)
    root = data_root()
    target = root / name
    if target.exists():
        raise ArchiveError(f"A dataset named '{name}' already exists in the data root; rename the zip or remove it.")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveError(f"Not a readable .zip file ({error}).") from error
    with archive:
        members = _checked_members(archive, max_total_bytes, max_files)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
        try:
            _copy_members(archive, members, staging, max_total_bytes)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    entries = [entry for entry in target.iterdir() if not entry.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and not _looks_like_classes(target):
        return entries[0]
    return target


def _checked_members(archive: zipfile.ZipFile, max_total_bytes: int, max_files: int) -> list[zipfile.ZipInfo]:
    members = []
    total = 0
    for info in archive.infolist():
        parts = PurePosixPath(info.filename.replace("\\", "/"))
        if info.filename.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", info.filename) or parts.is_absolute():
            raise ArchiveError(f"Refused: the zip entry '{info.filename}' has an absolute path.")
        if ".." in parts.parts:
            raise ArchiveError(f"Refused: the zip entry '{info.filename}' points outside its folder ('..').")
        if info.is_dir() or not parts.parts or parts.parts[0] in _IGNORED_TOP:
            continue
        members.append(info)
        total += info.file_size
        if len(members) > max_files:
            raise ArchiveError(f"Refused: the zip holds more than {max_files:,} files.")
        if total > max_total_bytes:
            raise ArchiveError(f"Refused: the zip unpacks to more than {_size(max_total_bytes)} (a zip bomb?).")
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > _CHUNK:
            raise ArchiveError(f"Refused: '{info.filename}' compresses {info.file_size // info.compress_size:,}× "
                               "(a zip bomb?); images never compress that much.")
    if not members:
        raise ArchiveError("The zip holds no files.")
    return members


def _copy_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], staging: Path, budget: int) -> None:
    """Copy in chunks, counting real bytes: a forged header cannot unpack more than the budget."""
    written = 0
    for info in members:
        destination = staging.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, open(destination, "wb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise ArchiveError(f"Refused: the zip unpacks to more than {_size(budget)} (a zip bomb?).")
                out.write(chunk)


def _looks_like_classes(folder: Path) -> bool:
    """True when the zip's only top folder holds images itself, i.e. it is a class folder, not a wrapper around the
    class folders (a zip made from `pets/` holds `pets/cats/…`, `pets/dogs/…`: then `pets/` is the dataset)."""
    only = next(entry for entry in folder.iterdir() if not entry.name.startswith("."))
    return any(entry.is_file() for entry in only.iterdir()) if only.is_dir() else True


def _size(count: int) -> str:
    return f"{count / 1024**3:.1f} GB" if count >= 1024**3 else f"{count / 1024**2:.0f} MB"
