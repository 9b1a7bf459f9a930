"""Read an image-folder dataset (one sub-folder per class, or pre-split train/ val/ test/ folders) and check its files."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tlcore.storage.images import UNREADABLE, BadImage, inspect_image, is_image_name
from tlcore.storage.paths import resolve_dataset_path

__all__ = [
    "SPLIT_NAMES", "SPLIT_FOLDERS", "DatasetError", "DatasetScan", "BadFile", "scan_folder", "count_images",
    "iter_bad_files", "check_file"
]

SPLIT_NAMES = ("train", "val", "test")
# Folder names of a pre-split dataset (lower case) → the split they hold; "valid" is the sign-language-digits layout.
SPLIT_FOLDERS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


class DatasetError(ValueError):
    """The folder cannot be used as a dataset; the message tells the user what to change."""


@dataclass(frozen=True)
class DatasetScan:
    """What is in a dataset folder, from its listing alone (no image is decoded)."""

    root: Path
    class_names: list[str]
    files: list[tuple[str, int]]  # (path relative to root, class index), sorted
    skipped: list[str] = field(default_factory=list)  # non-image or hidden entries, relative paths
    split_folders: dict[str, str] = field(default_factory=dict)  # pre-split only: split name → its folder name

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
    not use. Only the listing is read: no image is decoded."""
    root = resolve_dataset_path(user_path)
    split_folders, class_names = _layout(root, user_path)
    index_of = {name: index for index, name in enumerate(class_names)}
    files: list[tuple[str, int]] = []
    skipped: list[str] = []
    for relative, class_name, is_image in _walk(root, split_folders, class_names):
        (files.append((relative, index_of[class_name])) if is_image else skipped.append(relative))
    scan = DatasetScan(root=root, class_names=class_names, files=sorted(files), skipped=sorted(skipped),
                       split_folders=split_folders)
    empty = [name for name, count in scan.class_counts.items() if count == 0]
    usable = [name for name, count in scan.class_counts.items() if count > 0]
    if len(usable) < 2:
        raise DatasetError(
            f"'{root.name}' has {len(usable)} class with images ({', '.join(usable) or 'none'}); "
            "a classifier needs at least two class sub-folders with images in them."
        )
    if empty:
        raise DatasetError(f"These class folders hold no images: {', '.join(empty)}. Add images or remove them.")
    return scan


def count_images(user_path: str | os.PathLike) -> dict[str, dict[str, int]]:
    """{split or "all": {class: count}} from the listing alone, holding only the counts in memory (no file list)."""
    root = resolve_dataset_path(user_path)
    split_folders, class_names = _layout(root, user_path)
    counts: Counter = Counter()
    for relative, class_name, is_image in _walk(root, split_folders, class_names):
        if is_image:
            counts[(SPLIT_FOLDERS[relative.split("/", 1)[0].lower()] if split_folders else "all", class_name)] += 1
    groups = [s for s in SPLIT_NAMES if s in split_folders] or ["all"]
    return {group: {name: counts.get((group, name), 0) for name in class_names} for group in groups}


def _visible_dirs(folder: Path) -> list[str]:
    return sorted(entry.name for entry in os.scandir(folder) if entry.is_dir() and not entry.name.startswith((".", "_")))


def _layout(root: Path, user_path) -> tuple[dict[str, str], list[str]]:
    """(split name → folder name for a pre-split dataset, else {}; sorted class names)."""
    if not root.is_dir():
        raise DatasetError(f"'{user_path}' is not a folder under the data root.")
    top = _visible_dirs(root)
    split_folders = {SPLIT_FOLDERS[name.lower()]: name for name in top if name.lower() in SPLIT_FOLDERS}
    if "train" in split_folders and len(split_folders) > 1:
        others = sorted(set(top) - set(split_folders.values()))
        if others:
            raise DatasetError(f"'{root.name}' mixes split folders ({', '.join(split_folders.values())}) with other "
                               f"folders ({', '.join(others)}). Keep only train/ val/ test/, each with class folders.")
        class_names = sorted({name for folder in split_folders.values() for name in _visible_dirs(root / folder)})
    else:
        split_folders, class_names = {}, top
    if not class_names:
        raise DatasetError(
            f"'{root.name}' has no class sub-folders. Put the images of each class in their own sub-folder, "
            f"e.g. {root.name}/cats/*.jpg and {root.name}/dogs/*.jpg (or train/cats, val/cats, test/cats, …)."
        )
    return split_folders, class_names


def _walk(root: Path, split_folders: dict[str, str], class_names: list[str]) -> Iterator[tuple[str, str, bool]]:
    """(path relative to root with '/', class name, is an image) for every file under every class folder.

    Streams `os.scandir` entries (no per-folder name lists, no sorting), so memory stays flat however many files a
    folder holds; callers sort what they keep.
    """
    prefixes = [folder + "/" for folder in split_folders.values()] or [""]
    for prefix in prefixes:
        for class_name in class_names:
            pending = [f"{prefix}{class_name}"]
            while pending:
                relative_dir = pending.pop()
                try:
                    entries = os.scandir(root / relative_dir)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                with entries:
                    for entry in entries:
                        if entry.is_dir():
                            if not entry.name.startswith("."):
                                pending.append(f"{relative_dir}/{entry.name}")
                        else:
                            yield f"{relative_dir}/{entry.name}", class_name, is_image_name(entry.name)


def iter_bad_files(scan: DatasetScan) -> Iterator[tuple[str, str, str]]:
    """(relative path, reason code, message) of each unusable file, in listing order."""
    for relative, _ in scan.files:
        problem = check_file(scan.root / relative)
        if problem:
            yield relative, *problem


def check_file(path: Path) -> tuple[str, str] | None:
    """(reason code, message) when training cannot use the file, else None."""
    try:
        inspect_image(path)
    except BadImage as error:
        return error.reason, str(error)
    except OSError as error:
        return UNREADABLE, f"cannot be read ({error.strerror or error})"
    return None



