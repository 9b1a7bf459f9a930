"""A Ray head killed under a running job leaves the run "interrupted" (resumable), never "finished" (issue 31, item 8).

Before, the worker Ray started lived on as an orphan once the head (and the job's supervisor actor on it) died: it
trained outside Ray's accounting and its run ended "finished". Now the worker watches the processes that stand for
Ray's hold on it and, when they die, records why and stops. Here the supervisor is a plain process that starts the
worker the way Ray's JobSupervisor does (through a shell, in a new session), and is killed with SIGKILL; no cluster.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tlcore import worker
from tlcore.jobs import ray_backend, scheduler
from tlcore.jobs.ray_backend import HEAD_LOST_MESSAGE, Supervisors
from tlcore.runs.folders import FINISHED, RUNNING, create_run
from tlcore.runs.progress import process_start_ticks

ROOT = Path(__file__).resolve().parents[3]

# The job's worker: watches its supervision, then "trains" for a while and records the outcome, as an orphan would.
ORPHAN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from tlcore.jobs import ray_backend
    from tlcore.runs.folders import Run
    run = Run(Path(sys.argv[1]))
    ray_backend.watch_supervision(run, poll_s=0.1)
    (run.path / "worker.started").write_text("")
    time.sleep(float(sys.argv[2]))
    run.update_status(state="finished", phase="finished")
""")

# Ray's JobSupervisor in small: starts the entrypoint through a shell in its own session, then waits on it.
SUPERVISOR = textwrap.dedent("""
    import subprocess, sys
    child = subprocess.Popen(sys.argv[1], shell=True, start_new_session=True)
    child.wait()
""")


def _wait_for(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)
    return value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()


@pytest.fixture
def running_on_ray(make_config):
    run = create_run(make_config("anything"))
    run.update_status(state=RUNNING, ray_job_id="tlstudio-x", pid=None)
    return run


def _start_supervised_worker(run, seconds: float) -> subprocess.Popen:
    script = run.path / "orphan.py"
    script.write_text(ORPHAN)
    entrypoint = f"{sys.executable} {script} {run.path} {seconds}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SUPERVISOR, entrypoint], env=env, cwd=str(ROOT))


def _worker_pid(supervisor: subprocess.Popen) -> int:
    """The Python process the supervisor's shell started (the shell may have exec'd it)."""
    def find():
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmd = (entry / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if len(cmd) > 1 and cmd[1].endswith(b"orphan.py"):
                    return int(entry.name)
        return None
    return _wait_for(find, "the worker to start")


def test_a_worker_whose_ray_supervisor_dies_marks_its_run_interrupted_and_stops(running_on_ray):
    run = running_on_ray
    supervisor = _start_supervised_worker(run, seconds=3)  # an orphan would record "finished" 3 s later
    try:
        _wait_for((run.path / "worker.started").exists, "the worker to watch its supervisor")
        worker_pid = _worker_pid(supervisor)

        supervisor.send_signal(signal.SIGKILL)  # the head (and the job's supervisor actor on it) is killed
        supervisor.wait()

        _wait_for(lambda: not _alive(worker_pid), "the worker to stop")  # an orphan would have gone on
        status = run.status()  # the worker is gone: nothing can record "finished" any more
        assert status["state"] == "interrupted" and status["error"] == HEAD_LOST_MESSAGE
        assert status["state"] != FINISHED
        assert scheduler.refresh(run, step=False) == "interrupted"  # nothing later turns it "running" or "finished"
        assert scheduler.resume(run, start=False).status()["state"] == "queued"  # and it is resumable
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def test_a_worker_whose_supervisor_lives_finishes_normally(running_on_ray):
    run = running_on_ray
    supervisor = _start_supervised_worker(run, seconds=0.5)
    try:
        assert supervisor.wait(timeout=120) == 0
        assert run.status()["state"] == FINISHED and not run.status().get("error")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def test_a_dead_supervisor_or_a_reused_pid_is_gone():
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as child:
        ticks = process_start_ticks(child.pid)
        assert Supervisors(((child.pid, ticks),)).gone() is None
        assert Supervisors(((child.pid, ticks + 1),)).gone() == child.pid  # same pid, another process
        child.kill()
        child.wait()
        assert Supervisors(((child.pid, ticks),)).gone() == child.pid


def test_this_process_is_watched_through_its_parent_and_grandparent():
    supervisors = Supervisors.of_this_process()
    assert supervisors.processes[0][0] == os.getppid()
    assert supervisors.gone() is None


def test_the_note_never_rewrites_a_run_that_already_ended(running_on_ray):
    run = running_on_ray
    run.update_status(state=FINISHED)
    assert not ray_backend.note_head_lost(run) and run.status()["state"] == FINISHED


def test_the_worker_watches_its_supervision_only_when_ray_started_it(running_on_ray, monkeypatch):
    watched = []
    monkeypatch.setattr(ray_backend, "watch_supervision", lambda run: watched.append(run.path))
    monkeypatch.setattr(worker, "run_job", lambda run: FINISHED)
    monkeypatch.setattr(worker, "dispatch", lambda: [])
    monkeypatch.delenv(ray_backend.LOG_TO_RUN_ENV, raising=False)

    monkeypatch.delenv(ray_backend.ON_RAY_ENV, raising=False)
    assert worker.main([str(running_on_ray.path)]) == 0 and watched == []

    monkeypatch.setenv(ray_backend.ON_RAY_ENV, "1")
    assert worker.main([str(running_on_ray.path)]) == 0 and watched == [running_on_ray.path.resolve()]


def test_a_ray_job_is_submitted_with_the_watch_turned_on(monkeypatch, make_config):
    submitted = {}

    class Head:
        def submit_job(self, **kwargs):
            submitted.update(kwargs)
            return kwargs["submission_id"]

    monkeypatch.setenv(ray_backend.RAY_ADDRESS_ENV, "http://127.0.0.1:8265")
    monkeypatch.setattr(ray_backend, "_client", lambda address: Head())
    run = create_run(make_config("anything"))
    ray_backend.submit_to_ray(run, scheduler.Resources())
    assert submitted["runtime_env"]["env_vars"][ray_backend.ON_RAY_ENV] == "1"
