"""Adding examples and labeling the queue as a signed-in user: the dataset's owner rule (as for cleaning), then the
audit. Both change which images a dataset holds, so they need the same right as moving files between classes."""

from __future__ import annotations

from tlcore import labeling
from tlcore.access import User, record
from tlcore.actions.cleaning import _require_dataset

__all__ = ["add_examples", "label_image", "undo_label"]


def add_examples(user: User, dataset: str, class_name: str, images: list[bytes],
                 source: str = "upload") -> list[labeling.AddedExample]:
    """Write camera snapshots or uploaded images into a class folder of `dataset` (made when new).

    Raises:
        NotAllowed: the user may not change this dataset. ExampleRefused: a bad class name, image or dataset.
    """
    _require_dataset(user, dataset)
    added = labeling.add_examples(dataset, class_name, images, owner=user.id, prefix=source)
    record(user, "add_examples", dataset, class_name=class_name, images=len(added), source=source)
    return added


def label_image(user: User, dataset: str, relative: str, class_name: str) -> labeling.Labeled:
    """Move one image of the dataset's `_unlabeled/` folder into `class_name`."""
    _require_dataset(user, dataset)
    entry = labeling.assign(dataset, relative, class_name, actor=user.id)
    record(user, "label", dataset, moved_from=entry.source, moved_to=entry.target)
    return entry


def undo_label(user: User, dataset: str) -> labeling.Labeled:
    """Put the user's most recent label back into the queue."""
    _require_dataset(user, dataset)
    entry = labeling.undo_last(dataset, actor=user.id)
    record(user, "label_undo", dataset, moved_from=entry.target, moved_to=entry.source)
    return entry
