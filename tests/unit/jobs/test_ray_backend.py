"""The Ray backend against a real Ray head on loopback: with TLSTUDIO_RAY_ADDRESS set, the app's own code path
(jobs.submit, refresh, cancel, resume) runs tiny trainings as Ray jobs. One head for the module, stopped by its pids.

Two runs share the head's two CPUs: one finishes with its Ray job id and node recorded; the other is killed inside
epoch 2 (interrupted), resumed through Ray (a new Ray job) and cancelled (Ray stops it).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-ray.txt)")

from tlcore.jobs import ray_backend, scheduler  # noqa: E402
from tlcore.training.fault_injection import FAULT_ENV  # noqa: E402

RAY = Path(sys.executable).with_name("ray")
HEAD_TEMP_DIRS: dict[str, str] = {}  # each head's dashboard address → its temp dir (every head process names it)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line names `text` (this head's own temp dir): those this test started, nobody else's."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _kill(pids: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(1.0)


@pytest.fixture(scope="module")
def ray_head():
    """`ray start --head` on 127.0.0.1 with 2 CPUs in a temp dir of its own; yields the dashboard address."""
    temp_dir = tempfile.mkdtemp(prefix="tlray-", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    dashboard = _free_port()
    command = [str(RAY), "start", "--head", "--num-cpus", "2", "--num-gpus", "0", "--node-ip-address", "127.0.0.1",
               "--dashboard-host", "127.0.0.1", "--port", str(_free_port()), "--dashboard-port", str(dashboard),
               "--dashboard-agent-listen-port", str(_free_port()), "--temp-dir", temp_dir,
               "--object-store-memory", str(100 * 1024 * 1024), "--disable-usage-stats"]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    started = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    try:
        assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
        address = f"http://127.0.0.1:{dashboard}"
        HEAD_TEMP_DIRS[address] = temp_dir
        from ray.job_submission import JobSubmissionClient

        deadline = time.monotonic() + 60
        while True:  # the dashboard's job API answers a little after `ray start` returns
            try:
                JobSubmissionClient(address).list_jobs()
                break
            except Exception:  # noqa: BLE001
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield address
    finally:
        _kill(_pids_mentioning(temp_dir))


@pytest.fixture
def on_ray(ray_head, monkeypatch):
    monkeypatch.setenv(ray_backend.RAY_ADDRESS_ENV, ray_head)
    monkeypatch.setenv(ray_backend.RAY_PYTHON_ENV, sys.executable)
    yield ray_head


def _ray_state_becomes(job_id: str, *states: str, timeout: float = 60) -> str | None:
    deadline = time.monotonic() + timeout
    while (state := ray_backend.ray_job_state(job_id)) not in states and time.monotonic() < deadline:
        time.sleep(0.5)
    return state


def test_runs_on_ray_finish_are_interrupted_when_killed_resume_and_cancel(on_ray, tiny_dataset, make_config, wait,
                                                                         monkeypatch, studio_dirs):
    dataset = tiny_dataset("tiny", classes=("0", "1"), per_class=40)
    finishing = scheduler.submit(make_config(dataset))
    monkeypatch.setenv(FAULT_ENV, "hang_in_epoch:2")  # forwarded to this job only: it waits inside epoch 2
    killed = scheduler.submit(make_config(dataset, epochs=2, batch_size=16))
    monkeypatch.delenv(FAULT_ENV)
    try:
        for run in (finishing, killed):
            status = run.status()
            assert status["ray_job_id"].startswith(f"tlstudio-{run.id}-") and status["state"] == "queued"

        done = wait.state(finishing, "finished", "failed", "interrupted", timeout=150)
        assert done["state"] == "finished", done.get("error") or finishing.log_path.read_text()[-2000:]
        assert done["host"] == socket.gethostname() and done["pid"] != os.getpid()
        assert _ray_state_becomes(done["ray_job_id"], "SUCCEEDED") == "SUCCEEDED"
        assert "Epoch 1/1" in finishing.log_path.read_text() or finishing.history()  # the worker's output is kept

        hanging = wait.until(killed, lambda s: s.get("state") != "queued" and (s.get("epoch") == 2 and s.get("batch")
                                                                               or s.get("state") != "running"),
                             timeout=150, what="epoch 2 on Ray")
        assert hanging["state"] == "running", hanging
        first_job = hanging["ray_job_id"]
        os.kill(hanging["pid"], signal.SIGKILL)  # the worker dies mid-epoch; Ray sees its job fail
        interrupted = wait.state(killed, "interrupted", "failed", "finished", timeout=60)
        assert interrupted["state"] == "interrupted" and "Ray reports the job FAILED" in interrupted["error"]
        assert [row["epoch"] for row in killed.history()] == [1]

        scheduler.resume(killed)  # the Resume button's call: through Ray again, from the last completed epoch
        again = killed.status()
        assert again["state"] == "queued" and again["resumed_from_epoch"] == 1 and again["ray_job_id"] != first_job
        assert _ray_state_becomes(again["ray_job_id"], "RUNNING", *ray_backend.TERMINAL_STATES) == "RUNNING"
        scheduler.cancel(killed)  # Ray's stop_job ends the worker
        assert _ray_state_becomes(again["ray_job_id"], *ray_backend.TERMINAL_STATES) == "STOPPED"
        assert wait.state(killed, "cancelled", "interrupted", "failed", "finished", timeout=30)["state"] == "cancelled"
    finally:
        _kill(_pids_mentioning(str(studio_dirs.runs)))  # any worker this test left running


def test_the_cluster_gpus_are_read_and_a_killed_head_leaves_the_run_interrupted(on_ray, ray_head, tiny_dataset,
                                                                              make_config, wait, monkeypatch,
                                                                              studio_dirs):
    """Last in this module: it kills the module's head. The head's node list is read through its dashboard (a CPU-only
    head: no GPU to offer, so the run asks for none); the head is then killed with SIGKILL under the running job."""
    from tlcore.jobs.ray_backend import HEAD_LOST_MESSAGE, ClusterGpus

    ray_backend._cluster_cache.clear()
    assert ray_backend.cluster_gpus() == ClusterGpus((0,))
    dataset = tiny_dataset("tiny", classes=("0", "1"), per_class=40)
    monkeypatch.setenv(FAULT_ENV, "hang_in_epoch:1")
    run = scheduler.submit(make_config(dataset, epochs=2, batch_size=16))
    monkeypatch.delenv(FAULT_ENV)
    try:
        assert run.status()["resources"] == {"gpus": 0, "lane": "training"}
        hanging = wait.until(run, lambda s: s.get("state") != "queued" and (s.get("batch")
                                                                             or s.get("state") != "running"),
                             timeout=150, what="epoch 1 on Ray")
        assert hanging["state"] == "running", hanging
        head_dir = HEAD_TEMP_DIRS[ray_head]
        for pid in _pids_mentioning(head_dir):  # the head dies: GCS, raylet, dashboard, the job's supervisor actor
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        ended = wait.state(run, "interrupted", "failed", "finished", "cancelled", timeout=90)
        assert ended["state"] == "interrupted", ended
        # Ours (the worker saw its supervisor die) or, if Ray's own watcher killed the worker first, the pid check's
        assert ended["error"] in (HEAD_LOST_MESSAGE, "The job process ended without finishing (killed or crashed).")
        print("killed head, run error:", ended["error"])
        deadline = time.monotonic() + 30  # the run is recorded first, then the worker ends (or Ray's watcher ends it)
        while _running(hanging["pid"]) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _running(hanging["pid"]), "the worker outlived the head (an orphan)"
    finally:
        _kill(_pids_mentioning(str(studio_dirs.runs)))



def _running(pid: int) -> bool:
    """The process exists and is not a zombie (a killed orphan may wait to be reaped by an init that never does)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
