"""Starting, cancelling and resuming jobs as a signed-in user: role, owner and quota checked, then audited."""

from __future__ import annotations

from tlcore import jobs, training
from tlcore.access import User, check_quota, record, require
from tlcore.config import TrainConfig
from tlcore.jobs.scheduler import all_jobs, scheduler_lock
from tlcore.runs import ACTIVE_STATES, Run, get_run
from tlcore.storage import folder_size

__all__ = ["TASK_ACTIONS", "start_training", "start_sweep", "start_task", "cancel_job", "resume_job", "owner_usage"]

# task kinds that act on someone's run, and the action (owner checked) they need; other kinds need "start"
# ("evaluate" recomputes a run's stored metrics from its own model: any member may, like starting a task.)
TASK_ACTIONS = {"export": "export", "download_weights": "install_weights",
                "batch_predict": "predict", "evaluate_external": "predict"}


def owner_usage(user_id: str) -> tuple[int, int]:
    """(queued or running jobs, bytes of runs and tasks) owned by `user_id`: the figures quotas compare."""
    owned = [job for job in all_jobs() if job.owner == user_id]
    active = sum(1 for job in owned if jobs.refresh(job) in ACTIVE_STATES)
    return active, sum(folder_size(job.path) for job in owned)


def _check_quota(user: User, adding: int = 1) -> None:
    """Call with the scheduler lock held, then submit before releasing it: checked and reserved in one step, so
    concurrent submits (two tabs, a script) cannot all pass the check before any of them is queued."""
    active, used = owner_usage(user.id)
    check_quota(user, active, used, adding=adding)


def start_training(user: User, config: TrainConfig, gpus: int | None = None, here: bool = False) -> Run:
    """Queue a training run (or fine-tune of a run) owned by `user`, on `gpus` GPUs (None: the scheduler's default).

    Raises:
        NotAllowed: the user may not start jobs. QuotaExceeded: over the job or disk quota.
    """
    require(user, "start", what="a training run")
    with scheduler_lock():
        _check_quota(user)
        run = jobs.submit(config, owner=user.id, gpus=gpus, here=here)  # owner known from the first step (fair share)
    record(user, "start", run.id, backbone=config.backbone, dataset=config.dataset, parent=config.parent_run)
    return run


def start_sweep(user: User, config: TrainConfig, depths: list[int | None]) -> str:
    """Queue a freeze-depth sweep owned by `user`; returns the sweep id (tlcore.training.submit_sweep)."""
    require(user, "start", what="a sweep")
    with scheduler_lock():  # every run of the sweep counts, reserved at once
        _check_quota(user, adding=len(set(depths)))
        sweep_id = training.submit_sweep(config, depths, owner=user.id)
    record(user, "start", sweep_id, backbone=config.backbone, dataset=config.dataset, depths=depths)
    return sweep_id


def start_task(user: User, kind: str, params: dict) -> Run:
    """Queue a background task owned by `user`; a task on someone's run (export, evaluate) needs that run's owner."""
    action = TASK_ACTIONS.get(kind, "start")
    owner = None
    if action == "export":
        owner = get_run(str(params.get("run", ""))).owner
    require(user, action, owner, what=f"a {kind} task" + (f" on {params.get('run')}" if owner else ""))
    if kind == "instant":  # the run it makes belongs to whoever asked, whatever the params say
        params = {**params, "owner": user.id}
    with scheduler_lock():  # every kind counts, a viewer's batch prediction too
        _check_quota(user)
        task = jobs.submit_task(kind, params, owner=user.id)
    audited = {"export": "export", "download_weights": "install_weights"}.get(kind, "start")
    record(user, audited, task.id, kind=kind, **({"run": params["run"]} if "run" in params else {}))
    return task


def cancel_job(user: User, run: Run) -> None:
    """Ask a job to stop; only its owner or an admin may."""
    require(user, "cancel", run.owner, what=run.id)
    jobs.cancel(run)
    record(user, "cancel", run.id, owner=run.owner)


def resume_job(user: User, run: Run, here: bool = False) -> Run:
    """Queue an interrupted or failed run again; only its owner or an admin may. `here`: as `jobs.resume`."""
    require(user, "resume", run.owner, what=run.id)
    resumed = jobs.resume(run, here=here)
    record(user, "resume", run.id, owner=run.owner)
    return resumed
