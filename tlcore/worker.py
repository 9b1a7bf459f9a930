"""Entry point of a job process: `python -m tlcore.worker RUN_DIR`. Waits its turn, trains, records the outcome."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from tlcore.jobs.scheduler import wait_for_slot
from tlcore.jobs.tasks import is_task, run_task
from tlcore.runs.folders import CANCELLED, FAILED, FINISHED, RUNNING, Run
from tlcore.training.checkpoints import clear_backups
from tlcore.training.phase import train_run


def run_job(run: Run, wait: bool = True) -> str:
    """Run the job (training or a task), never letting an exception escape: failures are written to status.json for the page."""
    run.update_status(pid=os.getpid())
    if wait and not wait_for_slot(run):
        return CANCELLED
    if not wait:
        run.update_status(state=RUNNING, started_at=time.time())
    try:

        if is_task(run):
            outcome = run_task(run)
        else:

            outcome = train_run(run)
    except BaseException as error:  # noqa: BLE001 - the page must show any failure, and the queue must go on
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


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tlcore.worker RUN_DIR", file=sys.stderr)
        return 2
    state = run_job(Run(Path(argv[0]).resolve()))
    return 0 if state in (FINISHED, CANCELLED) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
