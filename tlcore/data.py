"""Read an image-folder dataset (one sub-folder per class), check its files, and split it reproducibly."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from typing import Iterator

from tlcore.images import UNREADABLE, BadImage, inspect_image, is_image_name
from tlcore.paths import resolve_dataset_path

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


def find_bad_files(scan: DatasetScan) -> list[BadFile]:
    """Decode every image once; those that fail are reported with a reason and left out of training.

    A health report already computed for this exact listing is reused instead of decoding everything again.
    """
    from tlcore.health import cached_report

    report = cached_report(scan)
    if report is not None:
        return [BadFile(item["path"], item["message"]) for item in report["unreadable"]]
    return [BadFile(relative, message) for relative, _, message in iter_bad_files(scan)]


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


@dataclass(frozen=True)
class SplitConfig:
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 42


@dataclass
class Split:
    """Files of each split as (relative path, class index); stored with a run so evaluation uses the same test set."""

    class_names: list[str]
    train: list[tuple[str, int]]
    val: list[tuple[str, int]]
    test: list[tuple[str, int]]
    excluded: list[BadFile] = field(default_factory=list)

    @property
    def held_out(self) -> tuple[str, list[tuple[str, int]]]:
        """("test", its files), or ("validation", …) when there is no test split: what a model is measured on."""
        return ("test", self.test) if self.test else ("validation", self.val)

    def counts(self) -> dict[str, dict[str, int]]:
        """{split name: {class name: count}} for tables and charts."""
        result = {}
        for split_name in ("train", "val", "test"):
            counter = Counter(label for _, label in getattr(self, split_name))
            result[split_name] = {name: counter.get(i, 0) for i, name in enumerate(self.class_names)}
        return result

    def to_dict(self) -> dict:
        return {
            "class_names": self.class_names,
            "train": [list(item) for item in self.train],
            "val": [list(item) for item in self.val],
            "test": [list(item) for item in self.test],
            "excluded": [asdict(item) for item in self.excluded],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Split":
        return cls(
            class_names=list(data["class_names"]),
            train=[(p, int(c)) for p, c in data["train"]],
            val=[(p, int(c)) for p, c in data["val"]],
            test=[(p, int(c)) for p, c in data["test"]],
            excluded=[BadFile(**item) for item in data.get("excluded", [])],
        )


def make_split(scan: DatasetScan, config: SplitConfig, excluded: list[BadFile] | None = None) -> Split:
    """Stratified, seeded train/validation/test split (scikit-learn), leaving out files known to be bad."""
    from sklearn.model_selection import train_test_split

    if not 0 <= config.val_fraction < 1 or not 0 <= config.test_fraction < 1:
        raise DatasetError("Validation and test fractions must each be between 0 and 1.")
    if config.val_fraction + config.test_fraction >= 0.9:
        raise DatasetError("Validation + test fractions leave almost nothing to train on; keep them under 0.9.")
    excluded = excluded or []
    bad_paths = {item.path for item in excluded}
    items = [item for item in scan.files if item[0] not in bad_paths]
    labels = [label for _, label in items]
    unreadable_classes = [name for index, name in enumerate(scan.class_names) if index not in set(labels)]
    if unreadable_classes:
        raise DatasetError(f"No readable image left in: {', '.join(unreadable_classes)}. Replace the broken files "
                           "or remove the folder.")
    try:
        if scan.presplit:
            train, val, test = _given_split(scan, items, config, train_test_split)
        else:
            rest, test = _stratified(items, labels, config.test_fraction, config.seed, train_test_split)
            rest_labels = [label for _, label in rest]
            val_share = config.val_fraction / (1 - config.test_fraction) if config.test_fraction < 1 else 0
            train, val = _stratified(rest, rest_labels, val_share, config.seed, train_test_split)
    except ValueError as error:
        if isinstance(error, DatasetError):
            raise
        smallest = min(Counter(labels).values()) if labels else 0
        raise DatasetError(
            f"Cannot split this dataset stratified: the smallest class has {smallest} usable images. "
            f"Add images or lower the validation/test fractions. ({error})"
        ) from error
    return Split(scan.class_names, sorted(train), sorted(val), sorted(test), excluded)


def _given_split(scan: DatasetScan, items, config: SplitConfig, train_test_split):
    """A pre-split dataset's own train/val/test; only a missing validation folder is carved out of train (seeded)."""
    by_split = {name: [item for item in items if scan.split_of(item[0]) == name] for name in SPLIT_NAMES}
    missing = [name for index, name in enumerate(scan.class_names)
               if index not in {label for _, label in by_split["train"]}]
    if missing:
        raise DatasetError(f"The train folder has no readable image of: {', '.join(missing)}. Every class needs "
                           "training images.")
    train, val = by_split["train"], by_split["val"]
    if "val" not in scan.split_folders:
        train, val = _stratified(train, [label for _, label in train], config.val_fraction, config.seed,
                                 train_test_split)
    return train, val, by_split["test"]


def _stratified(items, labels, fraction, seed, train_test_split):
    if fraction <= 0:
        return list(items), []
    kept, held = train_test_split(items, test_size=fraction, random_state=seed, stratify=labels)
    return [tuple(i) for i in kept], [tuple(i) for i in held]
