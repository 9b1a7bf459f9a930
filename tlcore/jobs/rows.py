"""The queue as the pages and the CLI show it: one row per run and task. Reading only; the policy is the scheduler's."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tlcore.jobs.scheduler import all_jobs, lane_of, queue, resources_of
from tlcore.jobs.tasks import is_task
from tlcore.runs.folders import DAMAGED

__all__ = ["queue_rows"]


def queue_rows() -> list[dict[str, Any]]:
    """Every run and task, newest first: state, owner, kind, devices, queue position and why a folder is damaged."""
    positions: dict[str, int] = {}
    per_lane: Counter = Counter()
    for job in queue():
        lane = lane_of(resources_of(job))
        per_lane[lane] += 1
        positions[str(job.path)] = per_lane[lane]
    rows = []
    for job in all_jobs():
        status = job.status()
        needs = resources_of(job, status)
        devices = status.get("devices")
        rows.append({
            "id": job.id, "kind": status.get("kind", "task") if is_task(job) else "training",
            "state": status.get("state", "unknown"), "owner": job.owner, "needs": needs.describe(),
            "devices": ",".join(map(str, devices)) if devices else ("" if not status.get("ray_job_id") else "ray"),
            "position": positions.get(str(job.path)), "ray_job_id": status.get("ray_job_id"),
            "host": status.get("host"), "damaged": status.get("damaged") if status.get("state") == DAMAGED else None,
            "error": status.get("error"),
        })
    return rows
