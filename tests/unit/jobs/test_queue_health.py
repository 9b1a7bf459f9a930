"""A queue nobody can jam: damaged status files, a worker that never started and a reused pid sit beside a live
queue, each is reported with its reason, and the queue drains (real sleep-task workers, no TensorFlow)."""

import json
import os
import time

from tlcore import cli
from tlcore.jobs import scheduler
from tlcore.jobs.tasks import create_task
from tlcore.runs.folders import create_run
from tlcore.runs.progress import process_identity


def test_damaged_never_started_and_pid_reused_jobs_do_not_stop_the_queue(make_config, wait, capsys):
    config = make_config("tiny")
    damaged = {}
    for text in ("", "[]", '{"state": "runn'):
        run = create_run(config)
        (run.path / "status.json").write_text(text)
        damaged[run.id] = run
    reused = create_run(config)  # "running" under a pid that now belongs to another process (this one)
    me = process_identity()
    reused.update_status(state="running", **{**me, "pid_started": me["pid_started"] - 7})
    lost = create_task("sleep", {"steps": 1, "seconds_per_step": 0.01})  # handed devices; its worker never came
    lost.update_status(dispatched_at=time.time() - scheduler.NEVER_STARTED_S - 1, devices=[],
                       resources={"gpus": 0, "lane": "cpu"})

    live = [scheduler.submit_task("sleep", {"steps": 2, "seconds_per_step": 0.02}) for _ in range(3)]

    statuses = [wait.state(job, "finished", "failed", "interrupted", timeout=60) for job in live]
    assert [status["state"] for status in statuses] == ["finished"] * 3, [s.get("error") for s in statuses]
    assert {scheduler.refresh(run) for run in damaged.values()} == {"damaged"}
    assert scheduler.refresh(reused) == "interrupted"
    assert scheduler.refresh(lost) == "interrupted" and lost.status()["never_started"] is True
    assert "never started" in lost.status()["error"]
    assert scheduler.queue() == []

    assert cli.main(["runs", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[lost.id]["state"] == "interrupted" and rows[lost.id]["kind"] == "sleep"
    reasons = sorted(rows[run_id]["damaged"] for run_id in damaged)
    assert reasons[0] == "status.json holds list, not an object"
    assert reasons[1] == "status.json is empty"
    assert reasons[2].startswith("status.json is not valid JSON (cut off or overwritten)")
    assert all(rows[job.id]["owner"] == "local" and rows[job.id]["needs"] == "CPU lane" for job in live)
    assert cli.main(["runs"]) == 0
    text = capsys.readouterr().out
    assert any(line.startswith(lost.id) and "never started" in line for line in text.splitlines())

    scheduler.resume(lost)  # a task that never started may be queued again: it has done nothing yet
    again = wait.state(lost, "finished", "failed", "interrupted", timeout=60)
    assert again["state"] == "finished" and again["pid"] != os.getpid()


def test_a_worker_that_died_before_claiming_its_job_is_found_at_once_and_a_live_slow_one_is_waited_for():
    import socket
    import subprocess
    import sys

    crashed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    crashed.wait()
    task = create_task("sleep", {"steps": 1})
    task.update_status(dispatched_at=time.time() - 6, devices=[], worker_pid=crashed.pid, host=socket.gethostname(),
                       resources={"gpus": 0, "lane": "cpu"})
    slow = create_task("sleep", {"steps": 1})  # its launcher (this process) lives: slow, not lost
    slow.update_status(dispatched_at=time.time() - scheduler.NEVER_STARTED_S - 1, devices=[], worker_pid=os.getpid(),
                       host=socket.gethostname(), resources={"gpus": 0, "lane": "cpu"})

    assert scheduler.refresh(task, step=False) == "interrupted" and task.status()["never_started"] is True
    assert scheduler.refresh(slow, step=False) == "queued"
