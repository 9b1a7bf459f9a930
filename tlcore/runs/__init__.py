"""A run is a folder a person can read with `cat`: config, status, history, split, model, evaluation."""

from tlcore.runs.folders import ACTIVE_STATES, FAILED, FINISHED, INTERRUPTED, Run, create_run, get_run, list_runs
from tlcore.runs.progress import job_progress

__all__ = [
    "ACTIVE_STATES",
    "FAILED",
    "FINISHED",
    "INTERRUPTED",
    "Run",
    "create_run",
    "get_run",
    "list_runs",
    "job_progress",
]
