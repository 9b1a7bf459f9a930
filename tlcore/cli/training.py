"""Training jobs from the command line: train, resume, the run and task table, cancel."""

from __future__ import annotations

import json
import sys

from tlcore import actions, jobs
from tlcore.access import NotAllowed
from tlcore.cli.account import cli_user
from tlcore.config import load_config
from tlcore.datasets import scan_folder
from tlcore.runs import ACTIVE_STATES, FINISHED, dataset_changes, get_run, resume_epoch

__all__ = ["add_cancel_parser", "add_resume_parser", "add_runs_parser", "add_train_parser", "cancel", "resume",
           "runs", "train"]


def add_train_parser(sub) -> None:
    train = sub.add_parser("train", help="train a run headless from a config JSON, printing progress")
    train.add_argument("--config", required=True, help="run config JSON (the config.json of any run works)")
    train.add_argument("--gpus", type=int, default=None,
                       help="GPUs to train on (default: 1 when the machine has GPUs, else the CPU)")


def add_runs_parser(sub) -> None:
    runs = sub.add_parser("runs", help="every run and task: state, owner, devices, queue position, damaged reason")
    runs.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_resume_parser(sub) -> None:
    resume = sub.add_parser("resume", help="queue an interrupted or failed run again, from its last completed epoch")
    resume.add_argument("run", help="run id (folder name under the runs directory)")


def add_cancel_parser(sub) -> None:
    cancel = sub.add_parser("cancel", help="stop a queued or running run or task (its owner or an admin)")
    cancel.add_argument("run", help="run or task id")


def train(args) -> int:
    """Queue the run like the app's Start button (same queue, same devices) and follow it until it ends."""
    config = load_config(args.config)  # every problem of the file at once; the backbone's rules when it is queued
    scan_folder(config.dataset)  # a wrong dataset is a usage error (exit 2), found before a run folder is made
    run = actions.start_training(cli_user(), config, gpus=args.gpus, here=True)  # the app's rules: role, quota, audit
    print(f"run {run.id} in {run.path}", flush=True)
    state = _run_or_follow(run)
    if state is None:
        return 130
    status = run.status()
    for row in run.history():
        print(f"epoch {row['epoch']}: loss {row.get('loss')} accuracy {row.get('accuracy')} "
              f"val_loss {row.get('val_loss')} val_accuracy {row.get('val_accuracy')}")
    if state == FINISHED:
        print(f"finished: test accuracy {status.get('test_accuracy'):.4f}; model at {run.model_path}")
        return 0
    print(f"{state}: {status.get('error', '')}", file=sys.stderr)
    return 1


def _run_or_follow(run) -> str | None:
    """Locally the job waits its turn in the app's queue and then trains in this process (so Ctrl-C stops it); on a
    Ray cluster it runs there and this process follows it. Returns the final state (None: stopped following)."""
    import threading

    from tlcore.worker import run_job

    if not jobs.runs_here(run):
        return _follow(run)
    position = jobs.queue_position(run)
    if run.status().get("state") == "queued" and position and not run.status().get("dispatched_at"):
        print(f"queued: position {position}; training starts when the job(s) ahead finish", flush=True)
    done = threading.Event()
    printer = threading.Thread(target=_follow, args=(run, 2.0, done), daemon=True)
    printer.start()  # progress lines without touching the training loop
    state = run_job(run)
    done.set()
    jobs.dispatch()  # what this job held is free: start whoever waits
    return state


def _follow(run, poll_s: float = 1.0, done=None) -> str | None:
    """Print the job's progress lines until it ends; its final state, or None when the user stopped following
    (Ctrl-C: the job is a process of its own and goes on)."""
    import time

    last = None
    try:
        while done is None or not done.is_set():
            state = jobs.refresh(run, step=done is None)
            status = run.status()
            if state not in ACTIVE_STATES:
                return state
            if state == "queued":
                position = jobs.queue_position(run)
                line = f"queued: position {position}" if position else "queued: starting"
            else:
                line = (f"{status.get('phase', '')}: epoch {status.get('epoch', '-')}/{status.get('epochs', '-')} "
                        f"batch {status.get('batch', '-')}/{status.get('batches', '-')} "
                        f"eta {status.get('eta_seconds', '-')}s")
            if line != last:
                print(line, flush=True)
                last = line
            time.sleep(poll_s)
        return None
    except KeyboardInterrupt:
        print(f"\nstopped following; run {run.id} goes on in the background (python -m tlcore runs)",
              file=sys.stderr)
        return None


def resume(args) -> int:
    """Queue the run again (like the Resume button) and follow it; the run keeps its folder and history."""
    run = actions.resume_job(cli_user(), get_run(args.run), here=True)
    print(f"resuming run {run.id} at epoch {resume_epoch(run)}", flush=True)
    changes = dataset_changes(run)  # the run keeps its split whatever changed; say what did
    if changes:
        print(changes.message(), flush=True)
    state = _run_or_follow(run)
    if state is None:
        return 130
    status = run.status()
    if state == FINISHED:
        epochs = [int(row["epoch"]) for row in run.history()]
        print(f"finished: epochs {epochs[0]}..{epochs[-1]}, test accuracy {status.get('test_accuracy'):.4f}")
        return 0
    print(f"{state}: {status.get('error', '')}", file=sys.stderr)
    return 1


def runs(args) -> int:
    """Every run and task with its state, owner, devices, queue position and why a folder is damaged."""
    rows = jobs.queue_rows()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("no runs or tasks yet")
    for row in rows:
        where = f"#{row['position']} in queue" if row["position"] else (f"on {row['devices']}" if row["devices"] else "")
        note = row["damaged"] or (row["error"] if row["state"] in ("failed", "interrupted") else "") or ""
        print(f"{row['id']:<40} {row['kind']:<12} {row['state']:<11} {row['owner']:<20} {row['needs']:<20} "
              f"{where:<14} {note}".rstrip())
    return 0


def cancel(args) -> int:
    try:
        actions.cancel_job(cli_user(), actions.find_job(args.run))
    except NotAllowed as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    print(f"cancel requested: {args.run} stops after its current batch (a queued one leaves the queue)")
    return 0
