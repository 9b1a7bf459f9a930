"""Training images of a class, shown beside an answer so an audience sees what the model learnt that class from."""

from __future__ import annotations

from typing import Any

from tlcore.evaluation.mistakes import thumbnails
from tlcore.runs.folders import Run

__all__ = ["class_examples"]


def class_examples(run: Run, class_name: str, count: int = 4, width: int = 160) -> list[tuple[str, Any]]:
    """(file, PIL thumbnail) for up to `count` training images of `class_name`, spread evenly over the class's files
    (the same ones every time); files gone or unreadable are left out."""
    split = run.split()
    if split is None or class_name not in split.class_names:
        return []
    label = split.class_names.index(class_name)
    files = [relative for relative, index in split.train if index == label]
    step = max(1, len(files) // max(1, count))
    chosen = files[::step][:count]
    return [(name, image) for name, image in thumbnails(run.config().dataset, chosen, width) if image is not None]
