"""Background jobs: each job is its own OS process (or a Ray job); the scheduler decides which waiting jobs start.

No server thread is involved: the queue is the run folders themselves. One scheduler step (`dispatch`) runs under a
file lock whenever a job is submitted, resumed or cancelled, when a worker ends, and when someone finds a job dead.
It gives waiting jobs their devices (GPUs through `CUDA_VISIBLE_DEVICES`, or a CPU lane; tlcore.jobs.resources) in
fair-share order (tlcore.jobs.fair_share) and starts their workers. A waiting job has no process at all, so it holds
no TensorFlow and polls nothing. A rerun, a reload, a closed tab, a second user or a server restart never stops or
corrupts a job; a damaged status file shows that job as damaged and the queue goes on.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from tlcore.config.training import TrainConfig, load_config
from tlcore.jobs import inventory, ray_backend
from tlcore.jobs.fair_share import Waiting, fair_order
from tlcore.jobs.resources import (
    CPU_LANE,
    Resources,
    cpu_lane_slots,
    max_parallel_jobs,
    resources_for_task,
    resources_for_training,
)
from tlcore.jobs.tasks import create_task, is_task, list_tasks
from tlcore.modeling.checks import check_config
from tlcore.runs.folders import (
    ACTIVE_STATES,
    CANCELLED,
    FAILED,
    INTERRUPTED,
    LOCAL_USER,
    QUEUED,
    RUNNING,
    Run,
    create_run,
    list_runs,
)
from tlcore.runs.progress import process_alive, process_identity
from tlcore.runs.resume import resume_epoch
from tlcore.storage.paths import studio_home

__all__ = [
    "RESUMABLE_STATES", "NEVER_STARTED_S", "max_parallel_jobs", "submit", "submit_task", "start_worker", "resume",
    "cancel", "scheduler_lock", "refresh", "all_jobs", "queue", "queue_position", "wait_for_slot", "dispatch",
    "resources_of", "free_gpus", "runs_here", "lane_of", "gpus_available"
]

RESUMABLE_STATES = (INTERRUPTED, FAILED)
NEVER_STARTED_S = 120.0  # a started worker claims its job within seconds; after this long it never will
_children: list[subprocess.Popen] = []  # kept only to reap finished workers (no zombies in the server)
_lock_depth = threading.local()  # the scheduler lock is re-entrant within a thread (flock is per open file)
_thread_lock = threading.RLock()


def submit(config: TrainConfig, owner: str = LOCAL_USER, gpus: int | None = None, here: bool = False,
           prepare: Callable[[Run], None] | None = None) -> Run:
    """Validate, create the run folder (queued, with the GPUs it needs) and take a scheduler step. Returns at once.

    `gpus`: how many GPUs to train on (MirroredStrategy over exactly those); default 1 when the machine has GPUs.
    `here`: the calling process runs the job itself when its turn comes (`tlcore.worker.run_job`, as the CLI does):
    the scheduler gives it devices but starts no worker for it while this process lives (ignored with Ray).
    `prepare`: writes more into the new folder (a fixed split, say) before any worker can see it.
    Raises ValueError for a config training cannot use or more GPUs than the machine has.
    """
    check_config(config)
    available, known, where = gpus_available()
    resources = resources_for_training(gpus, available, check_available=known, where=where)
    with scheduler_lock():  # created and given its needs in one step: a concurrent dispatch never sees it half-made
        run = create_run(config, owner)
        if prepare is not None:
            prepare(run)
        run.update_status(resources=resources.to_dict(), **_waiting_here(here))
    dispatch()
    return run


def gpus_available() -> tuple[int, bool, str]:
    """(the most GPUs one job can get, whether that is known, what it counts): this machine's GPUs, or with Ray the
    largest node's (a job runs on one node; 0 on a CPU-only cluster, so the default there is a CPU run, not a
    1-GPU request that Ray would keep pending forever). A cluster that cannot be read counts 0, unchecked."""
    if ray_backend.ray_address():
        cluster = ray_backend.cluster_gpus()
        if cluster is None:
            return 0, False, "the Ray cluster has"
        return cluster.largest_node, True, "the largest node of the Ray cluster has"
    return len(inventory.gpu_ids()), True, "this machine has"


def _waiting_here(here: bool) -> dict[str, Any]:
    return {"waiting_process": process_identity()} if here and not ray_backend.ray_address() else {}


def runs_here(run: Run) -> bool:
    """True when this process queued the job to run it itself (`here=True`)."""
    waiting = run.status().get("waiting_process") or {}
    return isinstance(waiting, dict) and waiting.get("pid") == os.getpid() and not run.status().get("ray_job_id")


def submit_task(kind: str, params: dict, owner: str = LOCAL_USER, gpus: int | None = None,
                lane: str | None = None) -> Run:
    """Queue a background task (see tlcore.jobs.tasks) in its lane and take a scheduler step.

    `gpus` and `lane` override the kind's own needs (tests queue sleep tasks as if they trained).
    """
    if kind == "lr_finder":  # a training config inside a task: checked here, where it is submitted, as training's is
        check_config(load_config((params or {}).get("config")))
    resources = resources_for_task(kind, gpus_available()[0], gpus, lane)
    with scheduler_lock():
        task = create_task(kind, params, owner)
        task.update_status(resources=resources.to_dict())
    dispatch()
    return task


def start_worker(run: Run) -> subprocess.Popen | None:
    """Start the job's worker process with the devices the scheduler gave it (status.json's `devices`)."""
    _reap_children()
    env = dict(os.environ, TF_FORCE_GPU_ALLOW_GROWTH="true")  # jobs sharing a machine take GPU memory as they need it
    devices = run.status().get("devices")
    if isinstance(devices, list):
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(device) for device in devices)  # "" hides every GPU
    with open(run.log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tlcore.worker", str(run.path)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # survives the server's restart and its Ctrl-C
            cwd=str(Path(__file__).resolve().parents[2]),  # the repository root, where `tlcore` imports from
        )
    _children.append(process)
    return process


def resume(run: Run, start: bool = True, here: bool = False) -> Run:
    """Queue an interrupted or failed run again; its worker goes on from the last completed epoch (tlcore.training.checkpoints).

    Checked and re-queued under the scheduler lock, so two clicks on Resume queue it once. A task whose worker never
    started may be queued again too (it has done nothing yet). `start=False` queues it without a scheduler step;
    `here` as for `submit`.
    """
    with scheduler_lock():
        state = refresh(run, step=False)
        status = run.status()
        never_started = bool(status.get("never_started"))
        if state not in RESUMABLE_STATES or (is_task(run) and not never_started):
            what = "task" if is_task(run) else f"run ({state})"
            raise ValueError(f"'{run.id}' cannot be resumed: only an interrupted or failed training run can, "
                             f"and this is a {what}.")
        if not is_task(run):
            problem = run.config_problem()
            if problem:
                raise ValueError(f"'{run.id}' cannot be resumed: its config.json is {problem}")
        run.cancel_path.unlink(missing_ok=True)
        changes: dict[str, Any] = dict(state=QUEUED, phase="queued to resume", queued_at=time.time(), pid=None,
                                       error=None, never_started=None, dispatched_at=None, devices=None,
                                       ray_job_id=None, worker_pid=None, waiting_process=None)
        changes.update(_waiting_here(here))
        if not is_task(run):
            changes["resumed_from_epoch"] = resume_epoch(run) - 1
        run.update_status(**changes)
    if start:
        dispatch()
    return run


def _reap_children() -> None:
    _children[:] = [child for child in _children if child.poll() is None]


def cancel(run: Run) -> None:
    """Stop the job: a waiting one leaves the queue at once, a running one stops after its current batch."""
    run.cancel_path.write_text("cancel requested\n")
    with scheduler_lock():
        status = run.status()
        if status.get("ray_job_id") and status.get("state") in ACTIVE_STATES:
            ray_backend.stop_ray_job(status["ray_job_id"])
        if status.get("state") == QUEUED:  # no worker has claimed it: nobody else would mark it
            run.update_status(state=CANCELLED, phase="cancelled before it started", finished_at=time.time())
    dispatch()


@contextmanager
def scheduler_lock() -> Iterator[None]:
    """The one lock every scheduler step, submit, claim and cancel holds; re-entrant within a thread."""
    with _thread_lock:
        depth = getattr(_lock_depth, "value", 0)
        if depth:
            _lock_depth.value = depth + 1
            try:
                yield
            finally:
                _lock_depth.value = depth
            return
        lock_path = studio_home() / ".scheduler.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            _lock_depth.value = 1
            try:
                yield
            finally:
                _lock_depth.value = 0
                fcntl.flock(handle, fcntl.LOCK_UN)


def resources_of(run: Run, status: dict | None = None) -> Resources:
    status = run.status() if status is None else status
    if "resources" in status:
        return Resources.from_dict(status["resources"])
    if is_task(run):  # queued before resources were recorded
        return resources_for_task(str(status.get("kind", "")), len(inventory.gpu_ids()))
    return resources_for_training(None, len(inventory.gpu_ids()))


def _check(run: Run) -> tuple[str, bool]:
    """(state, changed): marks an active job whose process is gone as interrupted, and a job handed to a worker that
    never claimed it as interrupted with `never_started` (it can be cancelled or queued again)."""
    status = run.status()
    state = status.get("state", "unknown")
    if state not in ACTIVE_STATES:
        return state, False
    ray_job = status.get("ray_job_id")
    ray = ray_backend.liveness(ray_job) if ray_job else None
    if state == RUNNING:
        if not status.get("pid") and not ray_job and _silent_for(status) > NEVER_STARTED_S:
            # a worker records its pid as it claims the job; a record with none and no recent update (written by
            # hand, cut short) would otherwise hold its slot forever
            return _mark(run, "Recorded as running with no process to check and no update for "
                              f"{NEVER_STARTED_S:.0f} s; it no longer holds a place in the queue."), True
        alive = process_alive(status) if status.get("pid") else None  # no pid recorded: nothing to judge by
        if ray is not None and ray.known:
            alive = ray.alive
        if alive is False and ray is not None and ray.stopped and run.cancel_path.exists():
            return _mark(run, "Cancelled: Ray stopped the job.", state=CANCELLED, phase="cancelled",
                         finished_at=time.time()), True
        if alive is False:
            return _mark(run, "The job process ended without finishing (killed or crashed)."
                         + (ray.reported if ray is not None else "")), True
        return state, False
    if not status.get("dispatched_at"):
        return state, False
    waited = time.time() - float(status["dispatched_at"])
    if ray is not None:
        gone = ray.ended
    elif status.get("waiting_process"):
        gone = not _waiter_alive(status)
    else:
        launcher = status.get("worker_pid")
        launcher_alive = process_alive({"pid": launcher, "host": status.get("host")}) if launcher else None
        if launcher_alive is None:  # no launcher to ask (or another host's): only the time tells
            gone = waited > NEVER_STARTED_S
        else:  # a live launcher on a loaded machine is slow, not lost; a dead one never claimed the job
            gone = (waited > 5 and not launcher_alive) or waited > 5 * NEVER_STARTED_S
    if gone:
        return _mark(run, f"Its worker never started (handed its devices {waited:.0f} s ago); cancel it or queue it "
                          "again.", never_started=True), True
    return state, False


def _silent_for(status: dict) -> float:
    """Seconds since the status was last written (or the job started); infinite when it records neither."""
    last = status.get("updated_at") or status.get("started_at")
    return time.time() - float(last) if last else float("inf")


def _mark(run: Run, error: str, **extra: Any) -> str:
    with scheduler_lock():
        _reap_children()
        if run.status().get("state") in ACTIVE_STATES:
            run.update_status(**{"state": INTERRUPTED, "error": error, **extra})
        return run.status().get("state", INTERRUPTED)


def refresh(run: Run, step: bool = True) -> str:
    """The run's state, marking a queued/running job whose process has died (or never started) as interrupted.

    With `step`, a scheduler step follows when the job was found dead (it frees its devices) or still waits for them,
    so whoever looks at a waiting job keeps the queue moving even if the worker that should have stepped it died.
    """
    try:
        state, changed = _check(run)
    except OSError as error:  # the folder could not be written (read-only, disk full): shown as it is, not raised
        print(f"scheduler: could not update {run.id}: {error}", file=sys.stderr)
        return run.status().get("state", "unknown")
    if step and (changed or (state == QUEUED and not run.status().get("dispatched_at"))):
        dispatch()
        state = run.status().get("state", state)
    return state


def all_jobs() -> list[Run]:
    """Training runs and tasks: one scheduler shares the devices between them."""
    return list_runs() + list_tasks()


def _holds_devices(status: dict) -> bool:
    return status.get("state") == RUNNING or (status.get("state") == QUEUED and bool(status.get("dispatched_at")))


def dispatch(claim_for: Run | None = None) -> list[Run]:
    """One scheduler step: give waiting jobs free devices in fair-share order and start their workers.

    Per lane the order is strict (a job that does not fit blocks those behind it in its lane, so a 4-GPU job is not
    starved by 1-GPU jobs); lanes do not block each other. With `claim_for`, that run, if chosen, is claimed for the
    calling process instead of getting a worker (the in-process path). Returns the jobs started.
    """
    started: list[Run] = []
    with scheduler_lock():
        jobs, started_jobs = [], []
        for job in all_jobs():
            try:
                state, _ = _check(job)
            except (OSError, ValueError) as error:  # one unreadable folder never stops the step for everyone
                print(f"scheduler: skipped {job.id}: {error}", file=sys.stderr)
                continue
            status = job.status()
            if state in ACTIVE_STATES:
                jobs.append((job, status))
            started_jobs.append((job, status))
        holding = [(job, status) for job, status in jobs if _holds_devices(status)]
        waiting = [(job, status) for job, status in jobs if status.get("state") == QUEUED and
                   not status.get("dispatched_at")]
        for job, _ in [pair for pair in waiting if pair[0].cancel_path.exists()]:
            job.update_status(state=CANCELLED, phase="cancelled before it started", finished_at=time.time())
        waiting = [pair for pair in waiting if not pair[0].cancel_path.exists()]
        if not waiting:
            return started
        ray = ray_backend.ray_address()
        free = _free_gpu_ids(holding)
        used = Counter(lane_of(resources_of(job, status)) for job, status in holding)
        limits = {"cpu": cpu_lane_slots(), "training": max_parallel_jobs()}
        blocked: set[str] = set()
        by_key = {str(job.path): (job, status) for job, status in waiting}
        order = _fair_order_by_turns(waiting, holding, started_jobs)
        for entry in order:
            job, status = by_key[entry.key]
            needs = resources_of(job, status)
            slot = lane_of(needs)
            if slot in blocked:
                continue
            if ray:
                started.append(_hand_to_ray(job, needs))
                continue
            fits = len(free) >= needs.gpus if slot == "gpu" else used[slot] < limits[slot]
            if not fits:
                blocked.add(slot)
                continue
            devices = free[:needs.gpus] if slot == "gpu" else []
            free = free[needs.gpus:] if slot == "gpu" else free
            used[slot] += 1
            job.update_status(dispatched_at=time.time(), devices=devices, resources=needs.to_dict())
            if claim_for is not None and job.path == claim_for.path or _waiter_alive(status):
                continue  # the process that queued it runs it itself
            process = start_worker(job)
            if process is not None:
                job.update_status(worker_pid=process.pid, host=process_identity(process.pid)["host"])
            started.append(job)
    return started


def _turns(job: Run, status: dict) -> str:
    """Whose turns a job takes: CPU-lane jobs (exports, batch predictions, health checks) take turns of their own, so
    an export running never costs its owner a training turn, nor a training their next export."""
    return "cpu" if lane_of(resources_of(job, status)) == "cpu" else "devices"


def _fair_order_by_turns(waiting: list[tuple[Run, dict]], holding: list[tuple[Run, dict]],
                         every: list[tuple[Run, dict]]) -> list[Waiting]:
    """Fair-share order within the device turns, then within the CPU lane's (lanes never block each other, so the
    two orders only need to be right each on its own)."""
    order: list[Waiting] = []
    for turns in ("devices", "cpu"):
        last_start: dict[str, float] = {}
        for job, status in every:
            if _turns(job, status) == turns:
                _note_start(last_start, job, status)
        order += fair_order([Waiting(str(job.path), job.owner, float(status.get("queued_at") or 0))
                             for job, status in waiting if _turns(job, status) == turns],
                            Counter(job.owner for job, status in holding if _turns(job, status) == turns),
                            last_start)
    return order


def _note_start(last_start: dict[str, float], job: Run, status: dict) -> None:
    """The latest time each owner was handed devices (fair share's round-robin pointer)."""
    started = status.get("dispatched_at") or status.get("started_at")
    if isinstance(started, (int, float)):
        last_start[job.owner] = max(last_start.get(job.owner, 0.0), float(started))


def _waiter_alive(status: dict) -> bool:
    waiting = status.get("waiting_process")
    return isinstance(waiting, dict) and process_alive(waiting) is not False


def lane_of(needs: Resources) -> str:
    return "cpu" if needs.lane == CPU_LANE else "gpu" if needs.gpus else "training"


def _free_gpu_ids(holding: list[tuple[Run, dict]]) -> list[str]:
    taken = {str(device) for _, status in holding for device in (status.get("devices") or [])}
    return [gpu for gpu in inventory.gpu_ids() if gpu not in taken]


def _hand_to_ray(job: Run, needs: Resources) -> Run:
    try:
        job_id = ray_backend.submit_to_ray(job, needs)
    except Exception as error:  # noqa: BLE001 - a cluster that refuses the job fails that job, not the queue
        job.update_status(state=FAILED, phase="failed", error=f"Ray did not take the job: {error}",
                          finished_at=time.time())
        return job
    job.update_status(dispatched_at=time.time(), ray_job_id=job_id, devices=None, resources=needs.to_dict())
    return job


def free_gpus() -> tuple[list[str], list[str]]:
    """(free GPU ids, all GPU ids) of this machine right now, for the Train page."""
    with scheduler_lock():
        holding = [(job, job.status()) for job in all_jobs()]
        holding = [(job, status) for job, status in holding if _holds_devices(status)]
        return _free_gpu_ids(holding), list(inventory.gpu_ids())


def queue() -> list[Run]:
    """Waiting jobs in the order they will start: those already handed their devices, then fair-share order."""
    dispatch()  # one step first, so what could start has started
    jobs = [(job, job.status()) for job in all_jobs() if refresh(job, step=False) == QUEUED]
    handed = sorted((pair for pair in jobs if pair[1].get("dispatched_at")),
                    key=lambda pair: (float(pair[1]["dispatched_at"]), pair[0].id))
    waiting = {str(job.path): job for job, status in jobs if not status.get("dispatched_at")}
    every = [(job, job.status()) for job in all_jobs()]
    order = _fair_order_by_turns([(job, job.status()) for job in waiting.values()],
                                 [(job, status) for job, status in every if _holds_devices(status)], every)
    return [job for job, _ in handed] + [waiting[entry.key] for entry in order]


def queue_position(run: Run) -> int | None:
    """1 for the next job to start in this run's lane; None when the run is not waiting."""
    lane = lane_of(resources_of(run))
    in_lane = [job for job in queue() if lane_of(resources_of(job)) == lane]
    for position, waiting in enumerate(in_lane, start=1):
        if waiting.path == run.path:
            return position
    return None


def wait_for_slot(run: Run, poll_s: float = 0.5) -> bool:
    """Claim the job for this process: at once when the scheduler handed it devices (the worker's case), else after
    scheduler steps choose it (a caller running a job in its own process). False when it was cancelled meanwhile or
    is no longer waiting (another process claimed it)."""
    while True:
        with scheduler_lock():
            status = run.status()
            if run.cancel_path.exists() and status.get("state") in ACTIVE_STATES:
                run.update_status(state=CANCELLED, phase="cancelled before it started", finished_at=time.time())
                return False
            if status.get("state") != QUEUED:
                return False
            if not status.get("dispatched_at"):
                dispatch(claim_for=run)
                status = run.status()
            if status.get("dispatched_at"):
                _use_devices(status.get("devices"))
                run.update_status(state=RUNNING, started_at=time.time(), **process_identity(),
                                  visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))
                return True
        time.sleep(poll_s)


def _use_devices(devices: Any) -> None:
    """In a process that runs its own job: see only the GPUs it was given (effective before TensorFlow loads)."""
    if isinstance(devices, list) and "tensorflow" not in sys.modules and os.environ.get("CUDA_VISIBLE_DEVICES") != \
            ",".join(map(str, devices)):
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, devices))
        os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
