"""Soak on loopback: two users submit training jobs for a while as workers and the web server are killed at random.

At the end every run is finished or cancelled (the interrupted ones resumed, as a user would with Resume), and every
epoch appears exactly once in its history: nothing is lost, nothing is trained twice. Real job processes, a real
`streamlit run app.py` server on 127.0.0.1, both stopped by their own process ids.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.servers import REPO_ROOT, free_port, healthy, streamlit_command
from tlcore import jobs
from tlcore.runs.folders import ACTIVE_STATES, CANCELLED, FINISHED, INTERRUPTED, get_run, list_runs

pytestmark = pytest.mark.e2e

SOAK_S = 20  # how long things get killed at least (longer while fewer than MIN_WORKER_KILLS happened)
MIN_WORKER_KILLS = 2
# Jobs run one at a time (TLSTUDIO_MAX_JOBS is 1), each paying a TensorFlow start-up, so every extra job is drain
# time: each user submits this many, a few seconds apart, all while workers and servers are being killed.
JOBS_PER_USER = 2
EPOCHS = 3
SEED = 20261201
# Part of the base trainable: every epoch runs the base (on the fast frozen phase's cached features an epoch of these
# tiny jobs takes milliseconds, and on an idle machine no kill ever landed in the middle of one).
TRAINS_THROUGH_THE_BASE = dict(fine_tune_at=100)


def _start_server(port: int, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(streamlit_command(sys.executable, port), cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _kill_group(process: subprocess.Popen) -> None:
    """kill -9 the server's whole group: the chaos this test is about (servers.stop_group ends one politely)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def test_jobs_survive_killed_workers_and_servers(tiny_dataset, make_config, tmp_path):
    dataset = tiny_dataset("soak", classes=("0", "1"), per_class=24)
    chance = random.Random(SEED)
    port, log = free_port(), tmp_path / "streamlit.log"
    url = f"http://127.0.0.1:{port}"
    server = _start_server(port, log)
    submitted: list[str] = []
    killed = {"workers": 0, "servers": 0}
    stop = threading.Event()

    def user(name: str, seed: int) -> None:  # submits a job now and then, as the Train page's Start does
        pace = random.Random(seed)
        for _ in range(JOBS_PER_USER):
            if stop.is_set():
                break
            run = jobs.submit(make_config(dataset, epochs=EPOCHS, batch_size=8, **TRAINS_THROUGH_THE_BASE))
            submitted.append(run.id)
            stop.wait(pace.uniform(4, 8))

    users = [threading.Thread(target=user, args=(name, SEED + i), daemon=True) for i, name in enumerate("AB")]
    for thread in users:
        thread.start()
    try:
        deadline, hard_deadline = time.monotonic() + SOAK_S, time.monotonic() + SOAK_S + 90
        while time.monotonic() < deadline or (killed["workers"] < MIN_WORKER_KILLS
                                              and time.monotonic() < hard_deadline):
            time.sleep(chance.uniform(3, 8))
            running = [run for run in list_runs() if jobs.refresh(run) == "running" and run.status().get("epoch")]
            if running and chance.random() < 0.6:  # kill -9 a worker in the middle of its training
                os.killpg(int(chance.choice(running).status()["pid"]), signal.SIGKILL)
                killed["workers"] += 1
            if chance.random() < 0.3:  # kill -9 the web server, start a new one
                _kill_group(server)
                server = _start_server(port, log)
                killed["servers"] += 1
        stop.set()
        for thread in users:
            thread.join(timeout=30)
        if submitted:
            jobs.cancel(get_run(submitted[-1]))  # one user changes their mind about the last job

        # Drain: resume what was interrupted (the Resume button), until every run has ended.
        drain_deadline = time.monotonic() + 600
        while time.monotonic() < drain_deadline:
            states = {run_id: jobs.refresh(get_run(run_id)) for run_id in submitted}
            for run_id, state in states.items():
                if state == INTERRUPTED:
                    jobs.resume(get_run(run_id))
            if all(state in (FINISHED, CANCELLED) for state in states.values()):
                break
            time.sleep(1)
        while not healthy(url) and time.monotonic() < drain_deadline:
            time.sleep(0.5)
        assert healthy(url), log.read_text()[-2000:]
    finally:
        stop.set()
        _kill_group(server)
        for run in list_runs():
            pid = run.status().get("pid")
            if run.status().get("state") in ACTIVE_STATES and pid:
                try:
                    os.killpg(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    assert len(submitted) >= 4 and killed["workers"] >= MIN_WORKER_KILLS, (len(submitted), killed)
    for run_id in submitted:
        run = get_run(run_id)
        status = run.status()
        assert status["state"] in (FINISHED, CANCELLED), (run_id, status)
        epochs = [int(row["epoch"]) for row in run.history()]
        assert len(epochs) == len(set(epochs)), (run_id, epochs)  # no epoch trained twice
        assert epochs == list(range(1, len(epochs) + 1)), (run_id, epochs)  # none skipped
        if status["state"] == FINISHED:
            assert epochs == list(range(1, EPOCHS + 1)), (run_id, epochs)
            assert run.model_path.exists()
    print(f"soak: {len(submitted)} jobs, {killed['workers']} workers and {killed['servers']} servers killed")
