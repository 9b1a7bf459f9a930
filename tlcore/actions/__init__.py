"""What a signed-in user does, each a function that checks role and owner, calls the lower package and audits it.

Pages and the CLI call these instead of tlcore.jobs / evaluation / datasets directly, so the same rules hold for a
button, a forged request and a script.
"""

from tlcore.actions.cleaning import CLEANING_OPERATIONS, clean_image, retrain_cleaned, undo_cleaning
from tlcore.actions.datasets import dataset_owner_of, save_dataset_settings, upload_dataset
from tlcore.actions.labeling import add_examples, label_image, undo_label
from tlcore.actions.jobs import cancel_job, owner_usage, resume_job, start_sweep, start_task, start_training
from tlcore.actions.removal import (
    DELETABLE_KINDS,
    deletable_items,
    deletable_jobs,
    delete_custom_backbone,
    delete_dataset,
    delete_export,
    delete_item,
    delete_job,
    delete_upload,
    empty,
    find_job,
    item_labels,
    prune,
    restore,
)
from tlcore.actions.results import mark_best, unmark_best
from tlcore.actions.sessions import session_changed, signed_in, signed_out
from tlcore.actions.weights import create_custom_backbone, install_weights

__all__ = [
    "CLEANING_OPERATIONS", "clean_image", "retrain_cleaned", "undo_cleaning",
    "save_dataset_settings", "upload_dataset", "dataset_owner_of",
    "cancel_job", "owner_usage", "resume_job", "start_sweep", "start_task", "start_training",
    "DELETABLE_KINDS", "deletable_items", "deletable_jobs", "item_labels", "delete_item", "delete_custom_backbone",
    "delete_dataset", "delete_export", "delete_job", "delete_upload", "empty", "find_job", "prune", "restore",
    "mark_best", "unmark_best",
    "add_examples", "label_image", "undo_label",
    "session_changed", "signed_in", "signed_out",
    "create_custom_backbone", "install_weights",
]
