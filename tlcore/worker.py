"""Entry point of a job process: `python -m tlcore.worker RUN_DIR`. Claims its job, trains, records the outcome, and
takes one scheduler step so the next waiting job starts on the devices it frees."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from tlcore.jobs import ray_backend
from tlcore.jobs.ray_backend import LOG_TO_RUN_ENV, ON_RAY_ENV
from tlcore.jobs.scheduler import dispatch, wait_for_slot
from tlcore.jobs.tasks import is_task, run_task
from tlcore.runs.folders import CANCELLED, FAILED, FINISHED, RUNNING, Run
from tlcore.runs.disk_space import disk_full_message, is_disk_full_error, remove_partial_files
from tlcore.runs.progress import process_identity
from tlcore.training.checkpoints import clear_backups
from tlcore.training.finish import finish_training
from tlcore.training.phase import train_run


def run_job(run: Run, wait: bool = True) -> str:
    """Run the job (training or a task), never letting an exception escape: failures are written to status.json for the page.

    `wait=True` (the worker) claims the job through the scheduler first; `wait=False` runs it here and now.
    """
    if wait and not wait_for_slot(run):
        return run.status().get("state", CANCELLED)
    if not wait:
        run.update_status(state=RUNNING, started_at=time.time(), **process_identity())
    try:
        outcome = run_task(run) if is_task(run) else finish_training(train_run(run))  # finish: END_OF_TRAINING
    except BaseException as error:  # noqa: BLE001 - the page must show any failure, and the queue must go on
        if is_disk_full_error(error):  # a state, said in one line: no traceback, no half-written file left
            message = disk_full_message(run.path, remove_partial_files(run.path))
            print(message, flush=True)
            try:
                run.update_status(state=FAILED, phase="failed", error=message, error_type="DiskFull",
                                  finished_at=time.time())
            except OSError:  # not even status.json fits: the next look finds the process gone (interrupted)
                pass
            return FAILED
        print(traceback.format_exc(), flush=True)
        message = str(error) or type(error).__name__
        if isinstance(error, MemoryError) or "OOM" in message or "ResourceExhausted" in type(error).__name__:
            message = f"Out of memory: {message}. Try a smaller batch size or image size."
        run.update_status(state=FAILED, phase="failed", error=message, error_type=type(error).__name__,
                          finished_at=time.time())
        return FAILED
    state = CANCELLED if outcome["cancelled"] else FINISHED
    clear_backups(run)  # only an unfinished run needs its per-epoch backups
    run.update_status(state=state, phase=state, finished_at=time.time(), eta_seconds=0,
                      **{key: value for key, value in outcome.items() if key != "cancelled"})
    return state


def _log_to_run_folder(run: Run) -> None:
    """On a cluster nobody redirected our output: append it to the run's worker.log, as the local scheduler does."""
    handle = os.open(run.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    os.close(handle)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tlcore.worker RUN_DIR", file=sys.stderr)
        return 2
    run = Run(Path(argv[0]).resolve())
    if os.environ.get(LOG_TO_RUN_ENV):
        _log_to_run_folder(run)
    if os.environ.get(ON_RAY_ENV):  # a Ray job: it must not outlive the head that placed it (interrupted, not finished)
        ray_backend.watch_supervision(run)
    state = run_job(run)
    try:
        dispatch()  # the devices this job held are free: start whoever waits
    except Exception:  # noqa: BLE001 - the job's outcome is recorded; the next look at the queue steps it again
        print(traceback.format_exc(), flush=True)
    return 0 if state in (FINISHED, CANCELLED) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
