"""Background jobs: each its own OS process, queued by the scheduler; tasks are the non-training jobs."""

from tlcore.jobs.ray_backend import ClusterGpus, cluster_gpus, ray_address
from tlcore.jobs.resources import Resources
from tlcore.jobs.rows import queue_rows
from tlcore.jobs.scheduler import (
    cancel,
    dispatch,
    free_gpus,
    gpus_available,
    queue,
    queue_position,
    refresh,
    resume,
    runs_here,
    submit,
    submit_task,
)
from tlcore.jobs.tasks import get_task, task_result

__all__ = ["cancel", "queue", "queue_position", "refresh", "resume", "submit", "submit_task", "get_task", "task_result",
           "dispatch", "free_gpus", "queue_rows", "Resources", "ray_address", "runs_here",
           "cluster_gpus", "ClusterGpus", "gpus_available"]
