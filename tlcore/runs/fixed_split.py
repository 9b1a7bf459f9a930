"""A run's split is fixed when it starts: a resume keeps its own split.json, a fine-tuning run its parent's.

Scanning the folder again would split it again, and a file added since would shift others between splits (a resumed
run was once tested on images it had trained on). So the stored split is used as it is: a file added to the folder is
not used, a file removed from it is left out (moved to the split's `excluded` with `REMOVED_NOTE`), and nothing else
moves. What changed is reported (`DatasetChanges.message`) to the page, the CLI and status.json.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tlcore.datasets.health import Report, split_dataset
from tlcore.datasets.scan import BadFile, DatasetError, scan_folder
from tlcore.datasets.split import Split
from tlcore.runs.folders import Run, get_run
from tlcore.storage.paths import resolve_dataset_path

__all__ = ["REMOVED_NOTE", "EXAMPLES_SHOWN", "DatasetChanges", "FixedSplit", "stored_split", "compare",
           "dataset_changes", "fixed_split", "split_for_run"]

REMOVED_NOTE = "removed from the dataset folder after the run's split was made"
EXAMPLES_SHOWN = 3  # names quoted in a message; status.json keeps a few more


@dataclass(frozen=True)
class DatasetChanges:
    """Files added to or removed from a dataset folder since a run's split was made (relative paths, sorted)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def message(self, keeper: str = "The run", examples: int = EXAMPLES_SHOWN) -> str:
        """One paragraph for a banner or the terminal: counts, a few names, and what `keeper` does about them."""
        if not self:
            return ""
        parts = [f"{len(files)} file{'s' if len(files) != 1 else ''} {what} ({_some(files, examples)})"
                 for what, files in (("added", self.added), ("removed", self.removed)) if files]
        return (f"The dataset folder changed since this run's split was made: {' and '.join(parts)}. "
                f"{keeper} keeps that split: added files are not used, removed files are left out; no file moves "
                "between train, validation and test.")

    def summary(self, examples: int = 5) -> dict[str, Any]:
        """For status.json: counts, the first few names of each, and the message."""
        return {"added": len(self.added), "removed": len(self.removed), "added_examples": list(self.added[:examples]),
                "removed_examples": list(self.removed[:examples]), "message": self.message()}


def _some(files: tuple[str, ...], examples: int) -> str:
    shown = ", ".join(files[:examples])
    return shown + (f", … {len(files) - examples} more" if len(files) > examples else "")


@dataclass(frozen=True)
class FixedSplit:
    """The split a run trains and is measured on, where its files are, and how the folder differs from it."""

    root: Path
    split: Split
    changes: DatasetChanges


def stored_split(run: Run) -> Split | None:
    """The split fixed for this run: its own split.json (it started before), else its parent's (a fine-tuning run
    starting now), else None (a first phase starting now: the folder is split for it)."""
    own = run.split()
    if own is not None:
        return own
    parent = run.config().parent_run
    try:
        return get_run(parent).split() if parent else None
    except KeyError:  # the parent was deleted: loading its model fails with the plain message
        return None


def compare(split: Split, dataset: str | Path) -> DatasetChanges:
    """What was added to or removed from the dataset folder since `split` was made (from the listing, no decoding).

    Files the split already left out (unreadable, or removed earlier) are known, not added; a file removed earlier
    stays reported as removed while it is missing.
    """
    root = resolve_dataset_path(dataset)
    used = [path for path, _ in split.train + split.val + split.test]
    removed_earlier = [item.path for item in split.excluded if item.reason == REMOVED_NOTE]
    try:
        present: set[str] | None = {path for path, _ in scan_folder(dataset).files}
    except DatasetError:  # e.g. a class folder emptied: the scan refuses it, the remaining files can still be used
        present = None
    if present is None:
        removed = [path for path in used + removed_earlier if not (root / path).is_file()]
        added: list[str] = []
    else:
        removed = [path for path in used + removed_earlier if path not in present]
        added = sorted(present - set(used) - {item.path for item in split.excluded})
    return DatasetChanges(tuple(added), tuple(sorted(removed)))


def dataset_changes(run: Run) -> DatasetChanges:
    """How the folder differs from the split this run would resume (or fine-tune) on; empty when none is fixed yet."""
    split = stored_split(run)
    return compare(split, run.config().dataset) if split is not None else DatasetChanges()


def fixed_split(run: Run) -> FixedSplit | None:
    """The stored split (see `stored_split`) with files removed from the folder left out, or None when the run's
    split is yet to be made.

    Raises:
        DatasetError: no training image of the stored split is left in the folder.
    """
    split = stored_split(run)
    if split is None:
        return None
    dataset = run.config().dataset
    changes = compare(split, dataset)
    gone = set(changes.removed)
    noted = {item.path for item in split.excluded}
    kept = replace(split, train=[item for item in split.train if item[0] not in gone],
                   val=[item for item in split.val if item[0] not in gone],
                   test=[item for item in split.test if item[0] not in gone],
                   excluded=split.excluded + [BadFile(path, REMOVED_NOTE) for path in changes.removed
                                              if path not in noted])
    if not kept.train:
        raise DatasetError(f"None of this run's {len(split.train)} training images is left in '{dataset}'; "
                           "restore the folder to resume or fine-tune this run.")
    return FixedSplit(resolve_dataset_path(dataset), kept, changes)


def split_for_run(run: Run, report: Report | None = None) -> FixedSplit:
    """The split a job of this run trains on: the fixed one (`fixed_split`), else the folder split now by the one
    split builder (`datasets.health.split_dataset`: unreadable images left out), with no changes to report.

    `report(fraction, message)` follows the check of every image when the folder is split now.
    """
    fixed = fixed_split(run)
    if fixed is not None:
        return fixed
    config = run.config()
    scan = scan_folder(config.dataset)
    return FixedSplit(scan.root, split_dataset(scan, config.split, report), DatasetChanges())
