"""The labeling queue: images in the dataset's `_unlabeled/` folder, labeled one at a time into class folders.

`_unlabeled/` sits beside the class folders; the scan ignores folders starting with "_", so these images are not in
the dataset until labeled. Labeling moves a file (`os.rename`, atomic inside the dataset folder) into its class
folder and appends one entry to the labeling log (who, when, from, to), under a lock; undo moves it back. A file
already moved by someone else is refused with who labeled it, so two people on one queue never move a file twice.
Finished runs keep their stored split: a newly labeled image is in no run's split until a new run scans again.

The order of the queue: least confident first (margin between the two most probable classes of the instant model
or a trained run, computed by the `label_order` task), random, or as listed.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import numpy as np

from tlcore.curation.cleaner import is_read_only
from tlcore.labeling.examples import check_class_name
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.file_lock import file_lock
from tlcore.datasets.images import is_image_name
from tlcore.storage.paths import resolve_dataset_path

__all__ = [
    "UNLABELED", "LABELING_LOG", "ORDERS", "LabelingRefused", "Labeled", "unlabeled_files", "labeling_log",
    "assign", "undo_last", "margins", "queue_order", "label_order_task",
]

UNLABELED = "_unlabeled"
LABELING_LOG = ".tlstudio-labeling.json"
ORDERS = ("margin", "random", "name")


class LabelingRefused(ValueError):
    """The label cannot be applied; the message says why. Nothing was moved."""


@dataclass(frozen=True)
class Labeled:
    """One entry of the labeling log; `undone` marks an entry whose move was reversed."""

    id: str
    source: str  # _unlabeled/<name>
    target: str  # <class>/<name>
    actor: str
    at: float
    undone: bool = False


def _root(dataset: str | os.PathLike) -> Path:
    root = resolve_dataset_path(dataset)
    if not root.is_dir():
        raise LabelingRefused(f"'{Path(dataset).name}' is not a dataset folder.")
    return root


def unlabeled_files(dataset: str | os.PathLike) -> list[str]:
    """Images waiting in `_unlabeled/` (relative paths, by name; sub-folders included, links not followed)."""
    folder = _root(dataset) / UNLABELED
    if not folder.is_dir():
        return []
    found = [path for path in folder.rglob("*") if path.is_file() and not path.is_symlink()
             and is_image_name(path.name)]
    return sorted(PurePosixPath(path.relative_to(folder.parent)).as_posix() for path in found)


def labeling_log(dataset: str | os.PathLike) -> list[Labeled]:
    return [Labeled(**entry) for entry in read_json(_root(dataset) / LABELING_LOG, default={}).get("labeled", [])]


def _write_log(root: Path, entries: list[Labeled]) -> None:
    write_json_atomic(root / LABELING_LOG, {"labeled": [asdict(entry) for entry in entries]},
                      what="the dataset's labeling log")


def assign(dataset: str | os.PathLike, relative: str, class_name: str, actor: str) -> Labeled:
    """Move `_unlabeled/<name>` into `<class_name>/<name>`; the class folder is made when new (a safe name)."""
    root = _root(dataset)
    if is_read_only(root):
        raise LabelingRefused(f"'{root.name}' is a built-in or downloaded dataset and read-only.")
    check_class_name(class_name)
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or len(pure.parts) < 2 or pure.parts[0] != UNLABELED:
        raise LabelingRefused(f"'{relative}' is not an image of the {UNLABELED}/ folder.")
    target = f"{class_name}/{'/'.join(pure.parts[1:])}"
    with file_lock(root / f"{LABELING_LOG}.lock"):
        entries = labeling_log(root)
        source_path, target_path = root / pure, root / target
        if not source_path.is_file():
            done = next((entry for entry in reversed(entries) if entry.source == relative and not entry.undone), None)
            who = f" by {done.actor} as '{done.target.split('/')[0]}'" if done else ""
            raise LabelingRefused(f"'{relative}' was already labeled{who}.")
        if target_path.exists():
            raise LabelingRefused(f"'{target}' already exists; nothing is overwritten.")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source_path, target_path)
        entry = Labeled(uuid.uuid4().hex[:12], relative, target, actor, time.time())
        _write_log(root, [*entries, entry])
    return entry


def undo_last(dataset: str | os.PathLike, actor: str) -> Labeled:
    """Move `actor`'s most recent label back to `_unlabeled/` (each person undoes their own labels)."""
    root = _root(dataset)
    with file_lock(root / f"{LABELING_LOG}.lock"):
        entries = labeling_log(root)
        index = next((i for i in range(len(entries) - 1, -1, -1)
                      if entries[i].actor == actor and not entries[i].undone), None)
        if index is None:
            raise LabelingRefused("Nothing of yours to undo.")
        entry = entries[index]
        source_path, target_path = root / entry.target, root / entry.source
        if not source_path.is_file():
            raise LabelingRefused(f"'{entry.target}' was moved since; nothing to undo.")
        if target_path.exists():
            raise LabelingRefused(f"'{entry.source}' exists again; nothing is overwritten.")
        os.rename(source_path, target_path)
        entries[index] = Labeled(**{**asdict(entry), "undone": True})
        _write_log(root, entries)
    return entries[index]


def margins(probabilities: np.ndarray) -> np.ndarray:
    """Top-1 minus top-2 probability per image (a binary head's single column is read as P(class 1))."""
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.ndim == 1 or probabilities.shape[1] == 1:
        positive = probabilities.reshape(-1)
        probabilities = np.stack([1 - positive, positive], axis=1)
    top = np.sort(probabilities, axis=1)
    return top[:, -1] - top[:, -2]


def queue_order(count: int, order: str, probabilities: np.ndarray | None = None, seed: int = 0) -> list[int]:
    """Indices in labeling order: "margin" (smallest margin first), "random" (seeded) or "name" (as listed)."""
    if order not in ORDERS:
        raise LabelingRefused(f"Unknown order '{order}'; choose one of {', '.join(ORDERS)}.")
    if order == "random":
        return np.random.default_rng(seed).permutation(count).tolist()
    if order == "margin":
        if probabilities is None:
            raise LabelingRefused("Margin order needs a model's predictions (the instant model or a trained run).")
        return np.argsort(margins(probabilities), kind="stable").tolist()
    return list(range(count))


def label_order_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task kind "label_order": a run's predictions for the unlabeled images, in the chosen order.

    Result: {"run", "order", "classes", "items": [{"path", "guesses": [[class, probability], …], "margin"}, …]}.
    """
    from tlcore.datasets.pipeline import load_arrays
    from tlcore.inference.predictor import probabilities_2d
    from tlcore.layers.loading import load_model
    from tlcore.runs.folders import get_run

    dataset, order = str(params["dataset"]), str(params.get("order", "margin"))
    files = unlabeled_files(dataset)
    run = get_run(str(params["run"]))
    classes = run.class_names()
    if not files:
        return {"run": run.id, "order": order, "classes": classes, "items": []}
    report(0.05, "loading the model")
    model = load_model(run.model_path)
    size = int(run.config().image_size)
    root = _root(dataset)
    parts = []
    for start in range(0, len(files), 64):
        images, _ = load_arrays(root, [(path, 0) for path in files[start:start + 64]], size)
        parts.append(probabilities_2d(model.predict(images, verbose=0)))
        report(0.1 + 0.85 * min(1.0, (start + 64) / len(files)), f"predicting {min(len(files), start + 64):,}/"
               f"{len(files):,} unlabeled images")
    probabilities = np.concatenate(parts)
    gaps = margins(probabilities)
    items = []
    for index in queue_order(len(files), order, probabilities, int(params.get("seed", 0))):
        best = np.argsort(probabilities[index])[::-1][:3]
        items.append({"path": files[index], "margin": round(float(gaps[index]), 4),
                      "guesses": [[classes[i], round(float(probabilities[index][i]), 4)] for i in best]})
    return {"run": run.id, "order": order, "classes": classes, "items": items}
