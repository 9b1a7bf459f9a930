"""Jobs on a Ray cluster: with `TLSTUDIO_RAY_ADDRESS` set, a job is submitted through Ray Jobs instead of started here.

Ray places the entrypoint `python -m tlcore.worker RUN_DIR` on a node with the GPUs asked for
(`entrypoint_num_gpus`; Ray sets that node's `CUDA_VISIBLE_DEVICES`). The run folder must be on storage every node
sees (docs/scaling.md); status, progress, cancel and resume then work as locally, with Ray's job status standing in
for a pid check. Ray is optional (requirements-ray.txt) and imported only when the address is set.
"""

from __future__ import annotations

import os
import shlex
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from tlcore.jobs.resources import TRAINING_LANE, Resources
from tlcore.runs.folders import ACTIVE_STATES, INTERRUPTED, Run
from tlcore.runs.progress import process_start_ticks

__all__ = [
    "RAY_ADDRESS_ENV", "RAY_PYTHON_ENV", "LOG_TO_RUN_ENV", "TERMINAL_STATES", "ray_address", "submit_to_ray",
    "ray_job_state", "RayLiveness", "liveness", "stop_ray_job", "job_info", "ClusterGpus", "gpus_of_nodes",
    "cluster_gpus", "CLUSTER_CACHE_S", "ON_RAY_ENV", "HEAD_LOST_MESSAGE", "Supervisors", "watch_supervision",
    "note_head_lost"
]

RAY_ADDRESS_ENV = "TLSTUDIO_RAY_ADDRESS"  # a Ray head's dashboard address, e.g. http://head:8265
RAY_PYTHON_ENV = "TLSTUDIO_RAY_PYTHON"  # the Python on the nodes that has tlcore's requirements (default: python)
LOG_TO_RUN_ENV = "TLSTUDIO_WORKER_LOG_TO_RUN"  # the worker writes its output to the run's worker.log itself
ON_RAY_ENV = "TLSTUDIO_WORKER_ON_RAY"  # set in a Ray job's worker: it stops when Ray's hold on it ends
HEAD_LOST_MESSAGE = ("The Ray head (or this job's supervisor on it) went away while the job ran; the worker stopped "
                     "rather than go on outside Ray's accounting. Resume it to go on from its last completed epoch.")
SUPERVISION_POLL_S = 0.5  # Ray's own watcher kills an orphaned entrypoint within about 1 s: note why before that
LOST = "LOST"  # the head answers but does not know the job (it restarted and lost its job table)
TERMINAL_STATES = ("STOPPED", "SUCCEEDED", "FAILED", LOST)
_FORWARDED = ("KERAS_HOME", "TF_CPP_MIN_LOG_LEVEL", "TF_FORCE_GPU_ALLOW_GROWTH")
_REPO = Path(__file__).resolve().parents[2]
CLUSTER_CACHE_S = 30.0  # how long the cluster's GPUs read for the Train page stay valid (a page reruns every click)
_cluster_cache: dict[str, tuple[float, "ClusterGpus | None"]] = {}
_cluster_lock = threading.Lock()


def ray_address() -> str | None:
    """The configured Ray head, or None for the local scheduler."""
    return os.environ.get(RAY_ADDRESS_ENV, "").strip() or None


@lru_cache(maxsize=4)
def _client(address: str):
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError as error:
        raise ValueError(f"{RAY_ADDRESS_ENV} is set but Ray is not installed here: "
                         "pip install -r requirements-ray.txt") from error
    try:
        return JobSubmissionClient(address)
    except (ConnectionError, RuntimeError) as error:
        raise ValueError(f"Cannot reach the Ray cluster at {address}: {error}") from error


def submit_to_ray(run: Run, resources: Resources) -> str:
    """Submit the run's worker as a Ray job; returns the Ray submission id (recorded in status.json by the caller)."""
    address = ray_address()
    python = os.environ.get(RAY_PYTHON_ENV, "python")
    env_vars = {name: value for name, value in os.environ.items()
                if name.startswith("TLSTUDIO_") or name in _FORWARDED}
    env_vars.update({LOG_TO_RUN_ENV: "1", ON_RAY_ENV: "1", "TF_FORCE_GPU_ALLOW_GROWTH": "true",
                     "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO), os.environ.get("PYTHONPATH")]))})
    submission_id = f"tlstudio-{run.id}-{uuid.uuid4().hex[:8]}"
    # A training-lane job without a GPU reserves a CPU, so a CPU cluster runs as many as it has cores, not all at once.
    cpus = 1 if resources.lane == TRAINING_LANE and not resources.gpus else None
    return _client(address).submit_job(
        entrypoint=f"{shlex.quote(python)} -m tlcore.worker {shlex.quote(str(run.path))}",
        submission_id=submission_id, runtime_env={"env_vars": env_vars},
        entrypoint_num_gpus=resources.gpus or None, entrypoint_num_cpus=cpus,
        metadata={"tlstudio_run": run.id, "owner": run.owner})


def ray_job_state(job_id: str) -> str | None:
    """Ray's status of the job (PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED), LOST when a reachable head does not
    know it (restarted: the job will never report again, so the run is interrupted and resumable), or None when the
    cluster cannot say (unreachable)."""
    address = ray_address()
    if not address:
        return None
    try:
        return str(_client(address).get_job_status(job_id))
    except Exception as error:  # noqa: BLE001 - an unreachable head must not stop a page: "cannot tell" is the answer
        text = str(error).lower()
        return LOST if "does not exist" in text or "not found" in text or "404" in text else None


@dataclass(frozen=True)
class RayLiveness:
    """What Ray says about a job's process, for the scheduler's liveness check (instead of a pid)."""

    state: str | None  # Ray's status, None when the cluster cannot say

    @property
    def known(self) -> bool:
        return self.state is not None

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def alive(self) -> bool:
        return self.known and not self.ended

    @property
    def stopped(self) -> bool:
        """Ray stopped it (a cancel, when the run's cancel file says so)."""
        return self.state == "STOPPED"

    @property
    def reported(self) -> str:
        """A sentence to append to an error message ("" when Ray could not say)."""
        return f" Ray reports the job {self.state}." if self.state else ""


def liveness(job_id: str) -> RayLiveness:
    return RayLiveness(ray_job_state(job_id))


def stop_ray_job(job_id: str) -> bool:
    """Ask Ray to stop the job (its worker gets SIGTERM, then SIGKILL); False when Ray could not be asked."""
    address = ray_address()
    if not address:
        return False
    try:
        return bool(_client(address).stop_job(job_id))
    except Exception:  # noqa: BLE001 - the cancel file still stops the job at its next batch
        return False


def job_info(job_id: str) -> dict[str, Any] | None:
    """Ray's record of the job (node, times, message) for the queue table; None when unavailable."""
    address = ray_address()
    if not address:
        return None
    try:
        info = _client(address).get_job_info(job_id)
    except Exception:  # noqa: BLE001
        return None
    return {"status": str(info.status), "message": info.message, "driver_node_id": info.driver_node_id}


@dataclass(frozen=True)
class ClusterGpus:
    """The GPUs of a Ray cluster's alive nodes. A job runs on one node, so the most one run can ask for is what the
    largest node has: a request above it would wait in Ray's queue forever."""

    per_node: tuple[int, ...]

    @property
    def largest_node(self) -> int:
        return max(self.per_node, default=0)

    @property
    def total(self) -> int:
        return sum(self.per_node)

    def describe(self) -> str:
        """One line for the Train page and the CLI."""
        nodes = len(self.per_node)
        where = f"{nodes} node" + ("s" if nodes != 1 else "")
        if not self.total:
            return f"The Ray cluster has no GPU ({where}): runs train on a CPU node."
        return (f"The Ray cluster has {self.total} GPU" + ("s" if self.total != 1 else "") + f" on {where}; "
                f"one run can use at most {self.largest_node} (the most on one node).")


def gpus_of_nodes(nodes: Iterable[Any]) -> ClusterGpus:
    """The GPUs of the alive nodes among Ray's node records (`ray.util.state.list_nodes`: a `state` and a
    `resources_total` such as {"CPU": 8.0, "GPU": 2.0}); dead nodes, fractions of a GPU and odd values count 0."""
    counts = []
    for node in nodes:
        record = node if isinstance(node, Mapping) else getattr(node, "__dict__", {})
        if str(record.get("state", "ALIVE")).upper() != "ALIVE":
            continue
        resources = record.get("resources_total")
        gpus = resources.get("GPU", 0) if isinstance(resources, Mapping) else 0
        try:
            counts.append(max(0, int(float(gpus))))
        except (TypeError, ValueError, OverflowError):
            counts.append(0)
    return ClusterGpus(tuple(counts))


def cluster_gpus(max_age_s: float = CLUSTER_CACHE_S) -> ClusterGpus | None:
    """The configured Ray cluster's GPUs (read through its dashboard, cached `max_age_s`), or None when there is no
    cluster or it cannot be read (the head is down): never raises, never blocks a page for more than a few seconds."""
    address = ray_address()
    if not address:
        return None
    with _cluster_lock:
        cached = _cluster_cache.get(address)
        if cached is not None and time.monotonic() - cached[0] < max_age_s:
            return cached[1]
        try:
            gpus: ClusterGpus | None = gpus_of_nodes(_list_nodes(address))
        except Exception:  # noqa: BLE001 - Ray missing or the head unreachable: "cannot tell", said by the caller
            gpus = None
        _cluster_cache[address] = (time.monotonic(), gpus)
        return gpus


def _list_nodes(address: str) -> list[Any]:
    """Ray's node records, asked of the head's dashboard (no `ray.init`: the web server never joins the cluster)."""
    from ray.util.state import list_nodes

    return list_nodes(address=address, timeout=5, raise_on_missing_output=False)


@dataclass(frozen=True)
class Supervisors:
    """The processes that stand for Ray's hold on a job's worker: its parent and grandparent as they were when it
    started, each with its start time (a reused pid is not the same process). Ray's job supervisor actor is one of
    them (with or without the shell Ray starts the entrypoint through); the node's raylet may be the other."""

    processes: tuple[tuple[int, int | None], ...]

    @classmethod
    def of_this_process(cls) -> "Supervisors":
        processes, pid = [], os.getpid()
        for _ in range(2):
            pid = _parent_of(pid)
            if pid is None or pid <= 1:
                break
            processes.append((pid, process_start_ticks(pid)))
        return cls(tuple(processes))

    def gone(self) -> int | None:
        """The pid of the first of them that no longer runs, or None while all do."""
        for pid, started in self.processes:
            now = process_start_ticks(pid)
            if now is None or (started is not None and now != started):
                return pid
        return None


def _parent_of(pid: int) -> int | None:
    """Field 4 of /proc/PID/stat; None off Linux or when the process is gone."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def note_head_lost(run: Run) -> bool:
    """Mark the run interrupted (resumable) because Ray's hold on its worker ended; False when it had already ended
    (finished, failed, cancelled: nothing to correct)."""
    try:
        if run.status().get("state") not in ACTIVE_STATES:
            return False
        run.update_status(state=INTERRUPTED, phase=INTERRUPTED, error=HEAD_LOST_MESSAGE, finished_at=time.time())
    except OSError:  # the folder cannot be written: the scheduler finds the process gone (interrupted) instead
        return False
    return True


def _kill_this_process() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def watch_supervision(run: Run, poll_s: float = SUPERVISION_POLL_S, supervisors: Supervisors | None = None,
                      stop=_kill_this_process) -> threading.Thread:
    """In a Ray job's worker: when the job's supervisor (or the head with it) dies, record the run as interrupted
    and stop this process at once, as a kill -9 would (every write is atomic and each epoch is checkpointed, so
    Resume goes on from the last completed epoch). Without this an orphaned worker trained on outside Ray's
    accounting (a restarted head would place another job on its GPU) and its run ended "finished".

    Returns the daemon thread that watches (every `poll_s` seconds)."""
    watched = Supervisors.of_this_process() if supervisors is None else supervisors

    def watch() -> None:
        while watched.gone() is None:
            time.sleep(poll_s)
        print(HEAD_LOST_MESSAGE, flush=True)
        note_head_lost(run)
        stop()

    thread = threading.Thread(target=watch, name="ray-supervision", daemon=True)
    thread.start()
    return thread
