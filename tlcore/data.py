"""Read an image-folder dataset (one sub-folder per class), check its files, and split it reproducibly."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tlcore.images import BadImage, is_image_name, open_rgb
from tlcore.paths import resolve_dataset_path


class DatasetError(ValueError):
    """The folder cannot be used as a dataset; the message tells the user what to change."""


@dataclass(frozen=True)
class DatasetScan:
    """What is in a dataset folder, from its listing alone (no image is decoded)."""

    root: Path
    class_names: list[str]
    files: list[tuple[str, int]]  # (path relative to root, class index), sorted
    skipped: list[str] = field(default_factory=list)  # non-image or hidden entries, relative paths

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
    """List a class-per-sub-folder dataset under the data root, refusing layouts training could not use."""
    root = resolve_dataset_path(user_path)
    if not root.is_dir():
        raise DatasetError(f"'{user_path}' is not a folder under the data root.")
    class_dirs = sorted(
        entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith((".", "_"))
    )
    if not class_dirs:
        raise DatasetError(
            f"'{root.name}' has no class sub-folders. Put the images of each class in their own sub-folder, "
            f"e.g. {root.name}/cats/*.jpg and {root.name}/dogs/*.jpg."
        )
    files: list[tuple[str, int]] = []
    skipped: list[str] = []
    for index, class_dir in enumerate(class_dirs):
        for dirpath, dirnames, filenames in os.walk(class_dir):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                relative = str((Path(dirpath) / name).relative_to(root))
                (files.append((relative, index)) if is_image_name(name) else skipped.append(relative))
    scan = DatasetScan(root=root, class_names=[d.name for d in class_dirs], files=files, skipped=skipped)
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


def find_bad_files(scan: DatasetScan) -> list[BadFile]:
    """Decode every image once; those that fail are reported with a reason and left out of training."""
    bad = []
    for relative, _ in scan.files:
        try:
            open_rgb(scan.root / relative)
        except BadImage as error:
            bad.append(BadFile(relative, str(error)))
        except OSError as error:
            bad.append(BadFile(relative, f"cannot be read ({error.strerror or error})"))
    return bad


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
        rest, test = _stratified(items, labels, config.test_fraction, config.seed, train_test_split)
        rest_labels = [label for _, label in rest]
        val_share = config.val_fraction / (1 - config.test_fraction) if config.test_fraction < 1 else 0
        train, val = _stratified(rest, rest_labels, val_share, config.seed, train_test_split)
    except ValueError as error:
        smallest = min(Counter(labels).values()) if labels else 0
        raise DatasetError(
            f"Cannot split this dataset stratified: the smallest class has {smallest} usable images. "
            f"Add images or lower the validation/test fractions. ({error})"
        ) from error
    return Split(scan.class_names, sorted(train), sorted(val), sorted(test), excluded)


def _stratified(items, labels, fraction, seed, train_test_split):
    if fraction <= 0:
        return list(items), []
    kept, held = train_test_split(items, test_size=fraction, random_state=seed, stratify=labels)
    return [tuple(i) for i in kept], [tuple(i) for i in held]
