"""Background jobs: each training phase is its own OS process; runs wait in a FIFO queue for a free slot.

No server thread is involved: the queue is the run folders themselves, and each worker process takes its own turn
under a file lock. So a rerun, a reload, a closed tab, a second user or a server restart never stops or corrupts a job.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tlcore.config.training import TrainConfig
from tlcore.jobs.tasks import create_task, is_task, list_tasks
from tlcore.modeling.checks import check_config
from tlcore.runs.folders import (
    ACTIVE_STATES,
    CANCELLED,
    FAILED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    Run,
    create_run,
    list_runs,
    pid_alive,
)
from tlcore.runs.resume import resume_epoch
from tlcore.storage.paths import runs_root

__all__ = [
    "RESUMABLE_STATES", "max_parallel_jobs", "submit", "submit_task", "start_worker", "resume", "cancel",
    "scheduler_lock", "refresh", "all_jobs", "queue", "queue_position", "wait_for_slot"
]

RESUMABLE_STATES = (INTERRUPTED, FAILED)
_children: list[subprocess.Popen] = []  # kept only to reap finished workers (no zombies in the server)


def max_parallel_jobs() -> int:
    """Jobs allowed to run at once (env `TLSTUDIO_MAX_JOBS`, default 1: one GPU, one job)."""
    return max(1, int(os.environ.get("TLSTUDIO_MAX_JOBS", "1")))


def submit(config: TrainConfig) -> Run:
    """Validate, create the run folder (queued) and start its worker process. Returns at once."""
    check_config(config)
    run = create_run(config)
    start_worker(run)
    return run


def submit_task(kind: str, params: dict) -> Run:
    """Queue a background task (see tlcore.jobs.tasks) and start its worker process."""

    task = create_task(kind, params)
    start_worker(task)
    return task


def start_worker(run: Run) -> None:
    _reap_children()
    with open(run.log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tlcore.worker", str(run.path)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the server's restart and its Ctrl-C
            cwd=str(Path(__file__).resolve().parents[2]),  # the repository root, where `tlcore` imports from
        )
    _children.append(process)  # the worker records its own pid in status.json: one writer per file


def resume(run: Run, start: bool = True) -> Run:
    """Queue an interrupted or failed run again; its worker goes on from the last completed epoch (tlcore.training.checkpoints).

    Checked and re-queued under the scheduler lock, so two clicks on Resume start one worker, not two.
    """

    with scheduler_lock():
        state = refresh(run)
        if is_task(run) or state not in RESUMABLE_STATES:
            what = "task" if is_task(run) else f"run ({state})"
            raise ValueError(f"'{run.id}' cannot be resumed: only an interrupted or failed training run can, "
                             f"and this is a {what}.")
        run.cancel_path.unlink(missing_ok=True)
        run.update_status(state=QUEUED, phase="queued to resume", queued_at=time.time(), pid=None, error=None,
                          resumed_from_epoch=resume_epoch(run) - 1)
    if start:
        start_worker(run)
    return run


def _reap_children() -> None:
    _children[:] = [child for child in _children if child.poll() is None]


def cancel(run: Run) -> None:
    """Ask the job to stop: a queued job leaves the queue, a running one stops after its current batch."""
    run.cancel_path.write_text("cancel requested\n")


@contextmanager
def scheduler_lock() -> Iterator[None]:
    lock_path = runs_root() / ".scheduler.lock"
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def refresh(run: Run) -> str:
    """The run's state, marking a queued/running run whose process has died as interrupted."""
    status = run.status()
    state = status.get("state", "unknown")
    if state in ACTIVE_STATES and status.get("pid") and not pid_alive(status["pid"]):
        _reap_children()
        if run.status().get("state") in ACTIVE_STATES:
            run.update_status(state=INTERRUPTED, error="The job process ended without finishing (killed or crashed).")
        return INTERRUPTED
    return state


def all_jobs() -> list[Run]:
    """Training runs and tasks: they share one queue because they share one GPU."""

    return list_runs() + list_tasks()


def queue() -> list[Run]:
    """Queued jobs in the order they will start (FIFO by queue time)."""
    waiting = [run for run in all_jobs() if refresh(run) == QUEUED]
    return sorted(waiting, key=lambda run: (run.status().get("queued_at", 0), run.id))


def queue_position(run: Run) -> int | None:
    """1 for the next job to start; None when the run is not waiting."""
    for position, waiting in enumerate(queue(), start=1):
        if waiting.path == run.path:
            return position
    return None


def wait_for_slot(run: Run, poll_s: float = 0.5) -> bool:
    """Block until this run may start (FIFO, at most `max_parallel_jobs` running). False if cancelled meanwhile."""
    while True:
        if run.cancel_path.exists():
            run.update_status(state=CANCELLED, phase="cancelled before it started", finished_at=time.time())
            return False
        with scheduler_lock():
            running = [r for r in all_jobs() if r.path != run.path and refresh(r) == RUNNING]
            waiting = queue()
            first_in_line = bool(waiting) and waiting[0].path == run.path
            if first_in_line and len(running) < max_parallel_jobs():
                run.update_status(state=RUNNING, started_at=time.time(), pid=os.getpid())
                return True
        time.sleep(poll_s)
