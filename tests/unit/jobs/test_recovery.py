"""Nothing lost: a worker killed mid-epoch resumes with a contiguous history; simultaneous submits; worker failures.

Real job processes (each ~15 s of TensorFlow start-up on 2 cores), tiny runs at 32 px.
"""

import os
import signal
import threading

import pytest

from tlcore import cli
from tlcore.jobs import scheduler
from tlcore.jobs.tasks import task_result
from tlcore.runs import folders
from tlcore.runs.folders import create_run
from tlcore.training import checkpoints
from tlcore.training.fault_injection import FAULT_ENV
from tlcore.worker import run_job


def test_a_worker_killed_during_epoch_2_resumes_from_epoch_2_with_epochs_1_2_3_exactly(
        tiny_dataset, make_config, wait, monkeypatch, capsys, standin_imagenet):
    monkeypatch.setenv(FAULT_ENV, "hang_in_epoch:2")  # the worker stops inside epoch 2, after one batch
    # The stand-in "ImageNet" base (tests/conftest.py): the resumed model must still discriminate at the end.
    run = scheduler.submit(make_config(tiny_dataset(), epochs=3, batch_size=16, weights="imagenet",
                                           learning_rate=1e-2))
    in_epoch_2 = lambda s: s.get("epoch") == 2 and s.get("batch")  # noqa: E731
    status = wait.until(run, lambda s: s.get("state") not in ("queued", "running") or in_epoch_2(s),
                        what="a batch of epoch 2 (or the job's end)")
    assert status["state"] == "running", status.get("error")
    assert [row["epoch"] for row in run.history()] == [1]
    assert checkpoints.backed_up_epoch(run) == 1

    os.kill(status["pid"], signal.SIGKILL)
    wait.until(run, lambda s: not folders.pid_alive(status["pid"]), timeout=30, what="the worker's death")
    assert scheduler.refresh(run) == "interrupted"

    monkeypatch.delenv(FAULT_ENV)
    split = run.split()
    assert cli.main(["resume", run.id]) == 0  # in this process: TensorFlow is loaded already
    assert f"resuming run {run.id} at epoch 2\n" in capsys.readouterr().out
    assert run.split() == split  # the folder did not change: the same split, and no note about it
    final = run.status()
    with pytest.raises(ValueError, match=r"cannot be resumed: only an interrupted or failed training run can, and "
                                         r"this is a run \(finished\)"):
        scheduler.resume(run)

    assert final["state"] == "finished", final.get("error")
    history = run.history()
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert [row["phase"] for row in history] == [1, 1, 1]
    assert final["resumed_from_epoch"] == 1 and final["epochs_done"] == 3
    assert final["dataset_changes"] is None
    assert not (run.path / checkpoints.BACKUP_FOLDER).exists()  # backups go once the run has finished
    evaluation = run.evaluation()
    assert evaluation["accuracy"] >= 0.75, evaluation  # 12 test images of digits 0 and 1: chance is 1/2
    assert sorted(set(evaluation["y_pred"])) == [0, 1]  # not one answer for every image


def test_two_users_submitting_at_the_same_moment_all_jobs_queue_run_one_at_a_time_and_finish(wait, monkeypatch):
    """Two users (threads) each submit three jobs at the same instant; sleep tasks keep it to seconds, and they go
    through exactly the code a training job does: folder creation, the FIFO queue under its lock, the worker."""
    monkeypatch.setenv("TLSTUDIO_CPU_JOBS", "1")  # sleep tasks take the CPU lane: one slot, so one at a time
    barrier = threading.Barrier(2)
    submitted = {"a": [], "b": []}

    def user(name, steps):
        barrier.wait()
        for _ in range(3):
            submitted[name].append(scheduler.submit_task("sleep", {"steps": steps, "seconds_per_step": 0.01}))

    threads = [threading.Thread(target=user, args=args) for args in (("a", 2), ("b", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = submitted["a"] + submitted["b"]
    assert len({task.id for task in every}) == 6  # same second, six folders
    statuses = [wait.state(task, "finished", "failed", "cancelled", "interrupted", timeout=120) for task in every]
    assert [status["state"] for status in statuses] == ["finished"] * 6, [s.get("error") for s in statuses]
    for name, steps in (("a", 2), ("b", 3)):  # each job kept its own parameters and result
        assert [task_result(task) for task in submitted[name]] == [{"steps": steps}] * 3
    spans = sorted((status["started_at"], status["finished_at"]) for status in statuses)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:]))  # never two at once
    assert scheduler.queue() == []


def test_out_of_memory_in_the_worker_fails_the_run_with_a_message_and_the_queue_goes_on(
        tiny_dataset, make_config, wait, monkeypatch):
    monkeypatch.setenv(FAULT_ENV, "oom")
    failing = create_run(make_config(tiny_dataset()))
    assert scheduler.wait_for_slot(failing)  # claimed for this process: it holds the training lane's one slot
    # A real worker in the same lane, waiting its turn.
    next_job = scheduler.submit_task("sleep", {"steps": 2, "seconds_per_step": 0.05}, lane="training")
    assert scheduler.refresh(next_job) == "queued" and scheduler.queue_position(next_job) == 1

    assert run_job(failing, wait=False) == "failed"  # the worker's code, in this process (TensorFlow is loaded already)
    done = wait.state(next_job, "finished", "failed", "interrupted")

    failed = failing.status()
    assert failed["state"] == "failed" and failed["error_type"] == "ResourceExhaustedError"
    assert failed["error"].startswith("Out of memory: OOM when allocating tensor with shape[32,1280,3,3]")
    assert failed["error"].endswith("Try a smaller batch size or image size.")
    assert done["state"] == "finished" and done["started_at"] >= failed["finished_at"]
    assert scheduler.refresh(failing) == "failed"
