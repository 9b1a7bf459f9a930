"""Cleaning a dataset's files and retraining on it as a signed-in user: the dataset's owner rule, then the audit.

Moving an image between class folders changes the dataset as much as its stored split does, so the same owner
rule holds: its uploader, else whoever first stored its settings (or an admin) may clean it; with no owner yet,
any member.
"""

from __future__ import annotations

from typing import Callable

from tlcore import curation
from tlcore.access import User, record, require
from tlcore.actions.datasets import dataset_owner_of
from tlcore.runs import Run, get_run

__all__ = ["CLEANING_OPERATIONS", "clean_image", "undo_cleaning", "retrain_cleaned"]

CLEANING_OPERATIONS: dict[str, Callable[..., curation.Action]] = {
    "keep": curation.keep, "relabel": curation.relabel, "exclude": curation.exclude}


def _require_dataset(user: User, dataset: str) -> None:
    owner = dataset_owner_of(dataset) or user.id  # its uploader, else who first stored its settings
    require(user, "dataset_settings", owner, what=f"the dataset {dataset}")


def clean_image(user: User, dataset: str, operation: str, relative: str, new_class: str | None = None
                ) -> curation.Action:
    """Keep, relabel (to `new_class`) or exclude one image of `dataset`, recorded with the dataset and audited.

    Raises:
        NotAllowed: the user may not change this dataset. CleaningRefused: the move itself was refused.
    """
    _require_dataset(user, dataset)
    if operation not in CLEANING_OPERATIONS:
        raise ValueError(f"Unknown cleaning operation '{operation}'; choose from {', '.join(CLEANING_OPERATIONS)}.")
    args = (dataset, relative, new_class) if operation == "relabel" else (dataset, relative)
    action = CLEANING_OPERATIONS[operation](*args, actor=user.id)
    record(user, f"clean_{operation}", dataset, moved_from=action.source, moved_to=action.target)
    return action


def undo_cleaning(user: User, dataset: str, action_id: str) -> curation.Action:
    """Undo one recorded cleaning action (the file moves back), under the same owner rule."""
    _require_dataset(user, dataset)
    action = curation.undo(dataset, action_id, actor=user.id)
    record(user, "clean_undo", dataset, undoes=action_id)
    return action


def retrain_cleaned(user: User, run_id: str) -> Run:
    """Queue the run's config on its cleaned split, owned by `user` (any member may start a run)."""
    require(user, "start", what=f"a retrain of {run_id}")
    get_run(run_id)  # an unknown id is refused before anything is queued
    retrained = curation.queue_retrain(run_id, actor=user.id)
    record(user, "start", retrained.id, retrain_of=run_id)
    return retrained
