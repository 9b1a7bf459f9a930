"""Open an uploaded zip without trusting it: a dataset unpacked into the data root, a batch of images read entry by
entry, a `.keras` model inspected before Keras opens it. All three pass the same checks and the same caps.

The caps hold whatever the compression: a ratio per entry (every entry, however small: many small entries add up),
a ratio for the whole archive, a file count and a total unpacked size. They are checked on the declared sizes before
anything is written (the entry count even before Python parses the central directory), and again on the real bytes
while copying. Names that would collide once unpacked (the same name twice, names differing only in case or in
Unicode normalisation, a name that is both a file and a folder), names too long for a file system, encrypted and
damaged entries are refused with the names. A dataset is unpacked into a hidden folder renamed into place only when
complete, so a refusal or a full disk leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, Iterator

from tlcore.storage.atomic import disk_full_guard
from tlcore.storage.paths import MAX_NAME_BYTES, data_root, shown_name

__all__ = [
    "MAX_TOTAL_BYTES", "MAX_FILES", "MAX_RATIO", "MAX_ARCHIVE_RATIO", "NESTED_ARCHIVE_EXTENSIONS", "ZipCaps",
    "ZipListing", "ArchiveError", "dataset_name_for", "unsafe_entry_reason", "open_zip", "check_zip", "read_entry",
    "extract_zip", "inspect_keras_archive"
]

MAX_TOTAL_BYTES = int(os.environ.get("TLSTUDIO_ZIP_MAX_BYTES", 4 * 1024**3))  # uncompressed
MAX_FILES = int(os.environ.get("TLSTUDIO_ZIP_MAX_FILES", 200_000))
# Images barely compress (JPEG, PNG: ~1×; uncompressed BMP or TIFF photos: 2-4×); bombs compress ~1000×.
MAX_RATIO = float(os.environ.get("TLSTUDIO_ZIP_MAX_RATIO", 200))  # unpacked / compressed, per entry
MAX_ARCHIVE_RATIO = float(os.environ.get("TLSTUDIO_ZIP_MAX_ARCHIVE_RATIO", 100))  # unpacked / size of the .zip
NESTED_ARCHIVE_EXTENSIONS = frozenset({".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar"})
_CHUNK = 1 << 20
_IGNORED_TOP = ("__MACOSX",)  # resource forks macOS adds to every zip it makes
_READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_ENCRYPTED_FLAG = 0x1
_SHOWN = 3  # names quoted in one message


@dataclass(frozen=True)
class ZipCaps:
    """Limits one zip must stay within (defaults from the environment, read at start-up; see the README)."""

    max_total_bytes: int = MAX_TOTAL_BYTES
    max_files: int = MAX_FILES
    max_ratio: float = MAX_RATIO
    max_archive_ratio: float = MAX_ARCHIVE_RATIO

    @property
    def max_entries(self) -> int:
        """Entries (files and folders) the central directory may list before it is parsed at all."""
        return 2 * self.max_files + 1_000


@dataclass(frozen=True)
class ZipListing:
    """What a checked zip holds: its files in archive order (folders and macOS resource forks left out)."""

    files: list[zipfile.ZipInfo]
    total_bytes: int  # declared, unpacked
    archive_bytes: int  # the .zip itself
    nested_archives: list[str] = field(default_factory=list)  # zips (or tars) inside, never opened


class ArchiveError(ValueError):
    """The zip is refused; the message says why in a user's words, `reason` says it without "Refused: "."""

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


def _refuse(reason: str) -> ArchiveError:
    return ArchiveError(f"Refused: {reason}", reason)


def dataset_name_for(filename: str) -> str:
    """A safe folder name from the uploaded file's name ("My pets (2).zip" → "My-pets-2"), at most 100 characters."""
    stem = Path(filename).stem
    name = re.sub(r"[^\w.-]+", "-", stem, flags=re.UNICODE).strip("-.")[:100].strip("-.")
    return name or "uploaded"


def unsafe_entry_reason(name: str) -> str | None:
    """Why an entry name could point outside wherever it were unpacked ("an absolute path", "'..'"), else None."""
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised) or path.is_absolute():
        return "an absolute path"
    if ".." in path.parts:
        return "'..'"
    return None


def open_zip(source: str | os.PathLike | IO[bytes], caps: ZipCaps) -> tuple[zipfile.ZipFile, int]:
    """(the open archive, its size in bytes), refusing an unreadable file or one listing too many entries.

    The entry count comes from the end record, before `zipfile` builds an object per entry: a 1 GB upload can list
    millions of empty entries, which would take gigabytes of memory just to parse.
    """
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as handle:
                archive_bytes, declared = _end_record(handle)
        else:
            archive_bytes, declared = _end_record(source)
        if declared > caps.max_entries:
            raise _refuse(f"the zip lists {declared:,} entries; at most {caps.max_entries:,} (files and folders) "
                          "are accepted.")
        return zipfile.ZipFile(source), archive_bytes
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ArchiveError(f"Not a readable .zip file ({error}).") from error


def _end_record(handle: BinaryIO) -> tuple[int, int]:
    """(size of the file, entries its central directory declares), read by the stdlib's own end-record reader."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    end_record = zipfile._EndRecData(handle)  # handles ZIP64 and trailing comments
    handle.seek(0)
    if end_record is None:
        raise zipfile.BadZipFile("File is not a zip file")
    return size, end_record[zipfile._ECD_ENTRIES_TOTAL]


def check_zip(archive: zipfile.ZipFile, archive_bytes: int, caps: ZipCaps) -> ZipListing:
    """Every check that needs no unpacking, on every entry; refuses the whole zip on the first kind of problem.

    Raises:
        ArchiveError: unsafe, too long, colliding, encrypted or unreadable entries (named), too many files, too
            much unpacked, or compression no image reaches.
    """
    infos = archive.infolist()
    for info in infos:
        reason = unsafe_entry_reason(info.filename)
        if reason == "an absolute path":
            raise _refuse(f"the zip entry '{info.filename}' has an absolute path.")
        if reason:
            raise _refuse(f"the zip entry '{info.filename}' points outside its folder ('..').")
    kept = [info for info in infos if _parts(info) and _parts(info)[0] not in _IGNORED_TOP]
    _check_names(kept)
    _check_collisions(kept)
    files = [info for info in kept if not info.is_dir()]
    encrypted = [info.filename for info in files if info.flag_bits & _ENCRYPTED_FLAG]
    if encrypted:
        raise _refuse(f"{_names(encrypted)} {'is' if len(encrypted) == 1 else 'are'} encrypted (password-protected); "
                      "zip the images again without a password.")
    unreadable = [info.filename for info in files if info.compress_type not in _READABLE_METHODS]
    if unreadable:
        raise _refuse(f"{_names(unreadable)} use{'s' if len(unreadable) == 1 else ''} a compression method this app "
                      "cannot read; zip the images again with ordinary (deflate) compression.")
    total = 0
    for count, info in enumerate(files, start=1):
        total += info.file_size
        if count > caps.max_files:
            raise _refuse(f"the zip holds more than {caps.max_files:,} files.")
        if total > caps.max_total_bytes:
            raise _refuse(f"the zip unpacks to more than {_size(caps.max_total_bytes)} (a zip bomb?).")
        if info.file_size > caps.max_ratio * max(info.compress_size, 1):
            raise _refuse(f"'{info.filename}' compresses {info.file_size // max(info.compress_size, 1):,}× "
                          "(a zip bomb?); images never compress that much.")
    if not files:
        raise ArchiveError("The zip holds no files.")
    if total > caps.max_archive_ratio * max(archive_bytes, 1):
        raise _refuse(f"the zip unpacks to {total / max(archive_bytes, 1):,.0f}× its own size (a zip bomb?); a zip "
                      f"of images unpacks to about its own size (the limit is {caps.max_archive_ratio:,.0f}×).")
    nested = [info.filename for info in files if PurePosixPath(info.filename).suffix.lower() in
              NESTED_ARCHIVE_EXTENSIONS]
    return ZipListing(files, total, archive_bytes, nested)


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, caps: ZipCaps, unpacked_so_far: int = 0
               ) -> Iterator[bytes]:
    """The entry's bytes in chunks of at most 1 MiB, counting real bytes against the caps as they come.

    A forged header cannot unpack more than declared (zipfile stops there and then fails the CRC check), and the
    running total of this zip stays under `max_total_bytes` whatever the headers say.

    Raises:
        ArchiveError: the entry is damaged (bad CRC, truncated) or breaks a cap while unpacking.
    """
    written = 0
    try:
        with archive.open(info) as source:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if unpacked_so_far + written > caps.max_total_bytes:
                    raise _refuse(f"the zip unpacks to more than {_size(caps.max_total_bytes)} (a zip bomb?).")
                if written > caps.max_ratio * max(info.compress_size, 1):
                    raise _refuse(f"'{info.filename}' compresses more than {caps.max_ratio:,.0f}× (a zip bomb?).")
                yield chunk
    except zipfile.BadZipFile as error:
        what = "its CRC checksum does not match its data" if "CRC" in str(error) else str(error)
        raise _refuse(f"the zip entry '{info.filename}' is damaged ({what}); nothing was unpacked.") from error
    except (zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise _refuse(f"the zip entry '{info.filename}' cannot be unpacked ({type(error).__name__}: {error}); "
                      "nothing was unpacked.") from error


def extract_zip(source: str | os.PathLike | IO[bytes], name: str, *, max_total_bytes: int | None = None,
                max_files: int | None = None, caps: ZipCaps | None = None) -> Path:
    """Extract into `data_root()/name` and return the dataset folder (the single top folder when the zip has one).

    Refuses everything `check_zip` and `read_entry` refuse, and a name that already exists. Zips inside the zip are
    unpacked as files and left closed (the dataset scan lists them).

    Raises:
        ArchiveError: the zip is refused; nothing was written.
        DiskFull: the disk filled up while unpacking; nothing was left behind.
    """
    caps = caps or ZipCaps()
    if max_total_bytes is not None or max_files is not None:
        caps = ZipCaps(max_total_bytes if max_total_bytes is not None else caps.max_total_bytes,
                       max_files if max_files is not None else caps.max_files, caps.max_ratio, caps.max_archive_ratio)
    name = dataset_name_for(name)
    root = data_root()
    target = root / name
    if target.exists():
        raise ArchiveError(f"A dataset named '{name}' already exists in the data root; rename the zip or remove it.")
    archive, archive_bytes = open_zip(source, caps)
    with archive:
        listing = check_zip(archive, archive_bytes, caps)
        with disk_full_guard("the unpacked zip"):
            staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
            try:
                _copy_members(archive, listing, staging, caps)
                staging.rename(target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    entries = [entry for entry in target.iterdir() if not entry.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and not _looks_like_classes(target):
        return entries[0]
    return target


def inspect_keras_archive(path: str | os.PathLike, caps: ZipCaps | None = None) -> ZipListing:
    """Check a `.keras` file (a zip) before Keras opens it: Keras reads its members into memory or unpacks them to a
    temporary folder, so a small upload must not be able to unpack to gigabytes or to thousands of files.

    Raises:
        ArchiveError: the same refusals as a dataset zip (member count, sizes, ratios, names, damage).
    """
    caps = caps or ZipCaps()
    archive, archive_bytes = open_zip(path, caps)
    with archive:
        return check_zip(archive, archive_bytes, caps)


def _parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    return PurePosixPath(info.filename.replace("\\", "/")).parts


def _check_names(infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        longest = max(_parts(info), key=lambda part: len(part.encode("utf-8")))
        if len(longest.encode("utf-8")) > MAX_NAME_BYTES:
            raise _refuse(f"the zip entry {shown_name(info.filename, 60)} has a name of "
                          f"{len(longest.encode('utf-8')):,} bytes; file systems allow {MAX_NAME_BYTES}. Shorten it "
                          "and zip again.")


def _key(path: str) -> str:
    """What two names look like to a person and to case-insensitive file systems (macOS, Windows)."""
    return unicodedata.normalize("NFC", path).casefold()


def _check_collisions(infos: list[zipfile.ZipInfo]) -> None:
    """Names that would overwrite or shadow one another once unpacked, all of them in one message."""
    files: dict[str, str] = {}  # key → the first spelling met
    folders: dict[str, str] = {}
    clashes: list[str] = []
    for info in infos:
        parts = _parts(info)
        folder_count = len(parts) if info.is_dir() else len(parts) - 1
        for depth in range(1, folder_count + 1):
            spelled = "/".join(parts[:depth])
            key = _key(spelled)
            if key in files:
                clashes.append(f"'{spelled}' is both a file and a folder")
            first = folders.setdefault(key, spelled)
            if first != spelled:
                clashes.append(_differ(first, spelled, "folders"))
        if info.is_dir():
            continue
        spelled = "/".join(parts)
        key = _key(spelled)
        if key in folders:
            clashes.append(f"'{spelled}' is both a file and a folder")
        elif key in files:
            clashes.append(f"'{spelled}' appears twice" if files[key] == spelled else _differ(files[key], spelled,
                                                                                                "files"))
        files.setdefault(key, spelled)
    unique = list(dict.fromkeys(clashes))
    if unique:
        more = f" (and {len(unique) - _SHOWN} more)" if len(unique) > _SHOWN else ""
        raise _refuse(f"names in the zip collide once unpacked: {'; '.join(unique[:_SHOWN])}{more}. Rename them so "
                      "each file and folder has a name of its own, and zip again.")


def _differ(first: str, second: str, what: str) -> str:
    if unicodedata.normalize("NFC", first) == unicodedata.normalize("NFC", second):
        how = "only in Unicode normalisation (they look identical)"
    elif first.casefold() == second.casefold():
        how = "only in upper/lower case"
    else:
        how = "only in case and Unicode normalisation"
    return f"the {what} '{first}' and '{second}' differ {how}"


def _names(names: list[str]) -> str:
    shown = ", ".join(f"'{name}'" for name in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _copy_members(archive: zipfile.ZipFile, listing: ZipListing, staging: Path, caps: ZipCaps) -> None:
    written = 0
    for info in listing.files:
        destination = staging.joinpath(*_parts(info))
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(destination, "wb") as out:
            for chunk in read_entry(archive, info, caps, written):
                out.write(chunk)
                written += len(chunk)


def _looks_like_classes(folder: Path) -> bool:
    """True when the zip's only top folder holds images itself, i.e. it is a class folder, not a wrapper around the
    class folders (a zip made from `pets/` holds `pets/cats/…`, `pets/dogs/…`: then `pets/` is the dataset)."""
    only = next(entry for entry in folder.iterdir() if not entry.name.startswith("."))
    return any(entry.is_file() for entry in only.iterdir()) if only.is_dir() else True


def _size(count: int) -> str:
    return f"{count / 1024**3:.1f} GB" if count >= 1024**3 else f"{count / 1024**2:.0f} MB"
