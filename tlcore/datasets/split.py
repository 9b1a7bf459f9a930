"""A reproducible, stratified train / validation / test split of a scanned dataset (or its own pre-split folders)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from tlcore.config.split import SplitConfig
from tlcore.datasets.scan import SPLIT_NAMES, BadFile, DatasetError, DatasetScan

__all__ = ["Split", "make_split"]


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
