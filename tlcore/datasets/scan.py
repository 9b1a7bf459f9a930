"""Read an image-folder dataset (one sub-folder per class, or pre-split train/ val/ test/ folders) and check its files.

Nothing outside the data root is read: a link leaving it is skipped and listed with the reason, a symlink loop is
listed, never fatal, and pipes or devices named like images are never opened. A class folder without images is left
out (and listed), so one empty folder does not hide every other finding of the health report.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from tlcore.storage.archive import NESTED_ARCHIVE_EXTENSIONS
from tlcore.datasets.images import UNREADABLE, BadImage, inspect_image, is_image_name
from tlcore.storage.paths import (
    PathOutsideRoot,
    UnusablePath,
    data_root,
    is_inside,
    resolve_dataset_path,
    resolve_inside_root,
    shown_name,
)

__all__ = [
    "SPLIT_NAMES", "SPLIT_FOLDERS", "LINK_OUTSIDE", "BROKEN_LINK", "LINK_LOOP", "NOT_A_FILE", "UNREADABLE_FOLDER",
    "NESTED_ARCHIVE", "DatasetError", "DatasetScan", "BadFile", "ScanProblem", "scan_folder", "count_images",
    "iter_bad_files", "check_file", "open_dataset_file"
]

SPLIT_NAMES = ("train", "val", "test")
# Folder names of a pre-split dataset (lower case) → the split they hold; "valid" is the sign-language-digits layout.
SPLIT_FOLDERS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}

# Why an entry of the dataset folder is not used, as stable codes (the message says it in a user's words).
LINK_OUTSIDE = "link leaves the data root"
BROKEN_LINK = "broken link"
LINK_LOOP = "link loop"
NOT_A_FILE = "not a regular file"
UNREADABLE_FOLDER = "folder cannot be read"
NESTED_ARCHIVE = "archive not opened"


class DatasetError(ValueError):
    """The folder cannot be used as a dataset; the message tells the user what to change."""


@dataclass(frozen=True)
class ScanProblem:
    """An entry of the dataset folder that is not read (a link, a loop, a pipe, a nested zip), and why."""

    path: str  # relative to the dataset folder, with '/'
    reason: str  # one of the codes above
    message: str


@dataclass(frozen=True)
class DatasetScan:
    """What is in a dataset folder, from its listing alone (no image is decoded)."""

    root: Path
    class_names: list[str]  # class folders holding images; training uses exactly these
    files: list[tuple[str, int]]  # (path relative to root, class index), sorted
    skipped: list[str] = field(default_factory=list)  # non-image or hidden entries, relative paths
    split_folders: dict[str, str] = field(default_factory=dict)  # pre-split only: split name → its folder name
    problems: list[ScanProblem] = field(default_factory=list)  # links, loops, pipes, nested zips: never read
    empty_classes: list[str] = field(default_factory=list)  # class folders without images, left out of training

    @property
    def presplit(self) -> bool:
        """The folder already holds train/ and val|valid/ and/or test/ folders: that split is used as is."""
        return bool(self.split_folders)

    def split_of(self, relative: str) -> str | None:
        """'train', 'val' or 'test' for a file of a pre-split dataset, None otherwise."""
        if not self.presplit:
            return None
        return SPLIT_FOLDERS[relative.split("/", 1)[0].lower()]

    def split_counts(self) -> dict[str, dict[str, int]]:
        """{split: {class: count}} of a pre-split dataset as found on disk (empty dict when not pre-split)."""
        if not self.presplit:
            return {}
        counts = Counter((self.split_of(path), label) for path, label in self.files)
        return {split: {name: counts.get((split, i), 0) for i, name in enumerate(self.class_names)}
                for split in SPLIT_NAMES if split in self.split_folders}

    @property
    def class_counts(self) -> dict[str, int]:
        counts = Counter(label for _, label in self.files)
        return {name: counts.get(index, 0) for index, name in enumerate(self.class_names)}

    @property
    def fingerprint(self) -> str:
        """Changes whenever a file is added, removed or renamed: the key for caches and for split reuse."""
        digest = hashlib.sha256("\n".join(f"{p}\t{c}" for p, c in self.files).encode())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BadFile:
    path: str
    reason: str


def scan_folder(user_path: str | os.PathLike) -> DatasetScan:
    """List a class-per-sub-folder dataset (or a pre-split one) under the data root, refusing layouts training could
    not use. Only the listing is read: no image is decoded.

    Class folders without images are left out and listed in `empty_classes`; fewer than two classes with images is
    refused, since no classifier can be trained on that.
    """
    root = resolve_dataset_path(user_path)
    problems: list[ScanProblem] = []
    split_folders, folder_names = _layout(root, user_path, problems)
    found: list[tuple[str, str]] = []
    skipped: list[str] = []
    for relative, class_name, is_image in _walk(root, split_folders, folder_names, problems):
        (found.append((relative, class_name)) if is_image else skipped.append(relative))
    counts = Counter(class_name for _, class_name in found)
    class_names = [name for name in folder_names if counts[name]]
    empty = [name for name in folder_names if not counts[name]]
    if len(class_names) < 2:
        raise DatasetError(
            f"'{root.name}' has {len(class_names)} class with images ({', '.join(class_names) or 'none'}); "
            "a classifier needs at least two class sub-folders with images in them."
        )
    index_of = {name: index for index, name in enumerate(class_names)}
    return DatasetScan(root=root, class_names=class_names,
                       files=sorted((relative, index_of[name]) for relative, name in found), skipped=sorted(skipped),
                       split_folders=split_folders, problems=sorted(problems, key=lambda item: item.path),
                       empty_classes=empty)


def count_images(user_path: str | os.PathLike) -> dict[str, dict[str, int]]:
    """{split or "all": {class: count}} from the listing alone, holding only the counts in memory (no file list).

    Every class folder is counted, empty ones too (0), so the counts show what the scan leaves out.
    """
    root = resolve_dataset_path(user_path)
    problems: list[ScanProblem] = []
    split_folders, class_names = _layout(root, user_path, problems)
    counts: Counter = Counter()
    for relative, class_name, is_image in _walk(root, split_folders, class_names, problems):
        if is_image:
            counts[(SPLIT_FOLDERS[relative.split("/", 1)[0].lower()] if split_folders else "all", class_name)] += 1
    groups = [s for s in SPLIT_NAMES if s in split_folders] or ["all"]
    return {group: {name: counts.get((group, name), 0) for name in class_names} for group in groups}


def _layout(root: Path, user_path, problems: list[ScanProblem]) -> tuple[dict[str, str], list[str]]:
    """(split name → folder name for a pre-split dataset, else {}; sorted class folder names)."""
    if not root.is_dir():
        raise DatasetError(f"{shown_name(user_path)} is not a folder under the data root.")
    allowed = data_root()
    top = _child_folders(root, "", allowed, problems)
    split_folders = {SPLIT_FOLDERS[name.lower()]: name for name in top if name.lower() in SPLIT_FOLDERS}
    if "train" in split_folders and len(split_folders) > 1:
        others = sorted(set(top) - set(split_folders.values()))
        if others:
            raise DatasetError(f"'{root.name}' mixes split folders ({', '.join(split_folders.values())}) with other "
                               f"folders ({', '.join(others)}). Keep only train/ val/ test/, each with class folders.")
        class_names = sorted({name for folder in split_folders.values()
                              for name in _child_folders(root, folder, allowed, problems)})
    else:
        split_folders, class_names = {}, top
    if not class_names:
        raise DatasetError(
            f"'{root.name}' has no class sub-folders. Put the images of each class in their own sub-folder, "
            f"e.g. {root.name}/cats/*.jpg and {root.name}/dogs/*.jpg (or train/cats, val/cats, test/cats, …)."
        )
    return split_folders, class_names


def _child_folders(root: Path, relative: str, allowed: Path, problems: list[ScanProblem]) -> list[str]:
    """Sorted names of the visible folders in `root/relative` that may be read (links checked as in `_walk`)."""
    names = []
    for entry in _entries(root, relative, problems):
        if not entry.name.startswith((".", "_")) and _kind(entry, _join(relative, entry.name), allowed,
                                                            problems) == "folder":
            names.append(entry.name)
    return sorted(names)


def _walk(root: Path, split_folders: dict[str, str], class_names: list[str],
          problems: list[ScanProblem]) -> Iterator[tuple[str, str, bool]]:
    """(path relative to root with '/', class name, is an image) for every readable file under every class folder.

    Streams `os.scandir` entries (no per-folder name lists, no sorting), so memory stays flat however many files a
    folder holds; callers sort what they keep. Each pending folder carries the real folders above it on this walk,
    so a link back to one of them (or to any folder above it on disk) is a loop, reported once, not followed.
    """
    allowed = data_root()
    prefixes = [folder + "/" for folder in split_folders.values()] or [""]
    for prefix in prefixes:
        for class_name in class_names:
            start = f"{prefix}{class_name}"
            if not (root / start).is_dir():  # a class of another split folder
                continue
            pending = [(start, (Path(os.path.realpath(root / start)),))]
            while pending:
                relative_dir, above = pending.pop()
                for entry in _entries(root, relative_dir, problems):
                    relative = f"{relative_dir}/{entry.name}"
                    if entry.name.startswith("."):
                        if not _is_folder_quietly(entry):
                            yield relative, class_name, False
                        continue
                    kind = _kind(entry, relative, allowed, problems)
                    if kind == "folder":
                        real = Path(os.path.realpath(entry.path)) if entry.is_symlink() else above[-1] / entry.name
                        if real in above or is_inside(above[-1], real):  # on this walk, or above it
                            problems.append(ScanProblem(relative, LINK_LOOP, "a link back to a folder it is in "
                                                        "(a loop); not followed"))
                        else:
                            pending.append((relative, (*above, real)))
                    elif kind == "file":
                        if PurePosixPath(entry.name).suffix.lower() in NESTED_ARCHIVE_EXTENSIONS:
                            problems.append(ScanProblem(relative, NESTED_ARCHIVE, "an archive inside the dataset, not "
                                                        "opened; unpack it into class folders to use its images"))
                        yield relative, class_name, is_image_name(entry.name)


def _entries(root: Path, relative: str, problems: list[ScanProblem]) -> Iterator[os.DirEntry]:
    try:
        with os.scandir(root / relative if relative else root) as entries:
            yield from entries
    except (FileNotFoundError, NotADirectoryError):  # removed while listing
        return
    except OSError as error:
        problems.append(ScanProblem(relative or ".", UNREADABLE_FOLDER,
                                    f"a folder that cannot be read ({error.strerror}); its files are left out"))


def _kind(entry: os.DirEntry, relative: str, allowed: Path, problems: list[ScanProblem]) -> str | None:
    """"folder" or "file" when the entry may be read, else None with the reason added to `problems`."""
    if entry.is_symlink():
        try:
            target = Path(os.path.realpath(entry.path, strict=True))
        except OSError as error:
            if error.errno == errno.ELOOP:
                problems.append(ScanProblem(relative, LINK_LOOP, "a symbolic link that leads back to itself "
                                            "(a loop); not followed"))
            else:
                problems.append(ScanProblem(relative, BROKEN_LINK, "a symbolic link to something that does not "
                                            "exist; skipped"))
            return None
        if not is_inside(target, allowed):
            problems.append(ScanProblem(relative, LINK_OUTSIDE, "a symbolic link to a place outside the data "
                                        "root; not read"))
            return None
    try:
        if entry.is_dir():
            return "folder"
        if entry.is_file():
            return "file"
    except OSError as error:
        problems.append(ScanProblem(relative, UNREADABLE, f"cannot be read ({error.strerror})"))
        return None
    problems.append(ScanProblem(relative, NOT_A_FILE, "not a regular file (a pipe, socket or device); not read"))
    return None


def _is_folder_quietly(entry: os.DirEntry) -> bool:
    """Hidden entries are never followed: only whether it is a folder (then ignored) or a file (listed as skipped)."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _join(relative: str, name: str) -> str:
    return f"{relative}/{name}" if relative else name


def iter_bad_files(scan: DatasetScan) -> Iterator[tuple[str, str, str]]:
    """(relative path, reason code, message) of each unusable file, in listing order."""
    for relative, _ in scan.files:
        problem = check_file(scan.root / relative)
        if problem:
            yield relative, *problem


def check_file(path: Path, allowed: Path | None = None) -> tuple[str, str] | None:
    """(reason code, message) when training cannot use the file, else None."""
    try:
        with open_dataset_file(path, allowed) as handle:
            inspect_image(handle)
    except BadImage as error:
        return error.reason, str(error)
    except OSError as error:
        return UNREADABLE, f"cannot be read ({error.strerror or error})"
    return None


def open_dataset_file(path: Path, allowed: Path | None = None) -> BinaryIO:
    """Open a dataset file for reading only if it is a regular file inside the data root (`allowed`).

    Checked again at read time, not only when listing: a link can be swapped for one leading out of the root, or a
    file for a pipe, which would block the reader forever (so the file is opened non-blocking and checked first).

    Raises:
        BadImage: with reason LINK_OUTSIDE, LINK_LOOP or NOT_A_FILE, and a message in a user's words.
        OSError: the file cannot be opened (permissions, removed since the scan).
    """
    try:
        resolve_inside_root(path, allowed)
    except UnusablePath as error:
        raise BadImage("a symbolic link that leads back to itself (a loop); not read", LINK_LOOP) from error
    except PathOutsideRoot as error:
        raise BadImage("a symbolic link to a place outside the data root; not read", LINK_OUTSIDE) from error
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadImage("not a regular file (a pipe, socket or device); not read", NOT_A_FILE)
    return open(fd, "rb")
