"""tlcore.runs.progress: the progress line, and liveness by pid, process start time and host (a reused pid is dead)."""

import os
import socket
import subprocess
import sys

from tlcore.runs.progress import job_progress, process_alive, process_identity, process_start_ticks


def test_progress_counts_epochs_and_batches_of_this_phase():
    progress = job_progress({"phase": "training", "epochs": 4, "first_epoch": 3, "epoch": 4, "batch": 5,
                             "batches": 10, "eta_seconds": 12})
    assert progress.fraction == 0.75
    assert progress.text == "training · epoch 4/4 · batch 5/10 · about 12 s left"


def test_this_process_is_alive_by_its_identity():
    identity = process_identity()
    assert identity["pid"] == os.getpid() and identity["host"] == socket.gethostname()
    assert identity["pid_started"] == process_start_ticks(os.getpid()) is not None
    assert process_alive(identity) is True


def test_a_reused_pid_does_not_keep_a_dead_job_alive():
    """Another process now has the pid: its start time differs from the one the job recorded."""
    identity = process_identity()
    assert process_alive({**identity, "pid_started": identity["pid_started"] - 1}) is False


def test_an_ended_process_is_dead_and_another_hosts_cannot_be_judged_here():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(process.pid)
    process.wait()
    assert process_alive(identity) is False
    assert process_alive({}) is False
    assert process_alive({"pid": 1, "host": "some-other-node"}) is None
    assert process_alive({"pid": os.getpid()}) is True  # recorded before start times were: the bare pid check
