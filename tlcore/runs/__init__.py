"""A run is a folder a person can read with `cat`: config, status, history, split, model, evaluation."""

from tlcore.runs.fixed_split import DatasetChanges, dataset_changes
from tlcore.runs.folders import (
    ACTIVE_STATES,
    FAILED,
    FINISHED,
    INTERRUPTED,
    LOCAL_USER,
    Run,
    create_run,
    get_run,
    list_runs,
)
from tlcore.runs.lineage import lineage_configs
from tlcore.runs.naming import readable_name
from tlcore.runs.progress import job_progress
from tlcore.runs.resume import resume_epoch

__all__ = [
    "DatasetChanges",
    "dataset_changes",
    "ACTIVE_STATES",
    "FAILED",
    "FINISHED",
    "INTERRUPTED",
    "LOCAL_USER",
    "Run",
    "create_run",
    "get_run",
    "list_runs",
    "lineage_configs",
    "readable_name",
    "job_progress",
    "resume_epoch",
]
