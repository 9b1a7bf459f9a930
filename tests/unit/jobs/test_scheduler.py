"""tlcore.jobs.scheduler and tlcore.worker with real job processes: a tiny run end to end, the FIFO queue, cancel, failure,
and a killed worker. Each real training process costs ~10–20 s on 2 CPU cores, so assertions are grouped."""

import json
import os
import signal

import pytest

from tlcore.jobs import scheduler
from tlcore.modeling.model import count_params
from tlcore.runs import folders

STANDIN_HEAD_LEARNING_RATE = 1e-2  # as tests/conftest.py's TRAINED_LEARNING_RATE: 3 steps of the head in one epoch
MIN_TEST_ACCURACY = 0.75  # 12 test images of digits 0 and 1, chance 0.5


@pytest.fixture
def one_job_at_a_time(monkeypatch):
    monkeypatch.setenv("TLSTUDIO_MAX_JOBS", "1")


def test_two_jobs_run_one_after_the_other_and_each_leaves_a_complete_run_folder(
        tiny_dataset, make_config, wait, one_job_at_a_time, standin_imagenet):
    dataset = tiny_dataset("tiny", classes=("0", "1"), per_class=40)
    # The stand-in "ImageNet" base (tests/conftest.py), the head trained at the shared run's rate: a model that
    # discriminates, so the evaluation below can be checked against chance.
    first = scheduler.submit(make_config(dataset, weights="imagenet", learning_rate=STANDIN_HEAD_LEARNING_RATE))
    second = scheduler.submit(make_config(dataset))

    wait.state(first, "running", "finished", "failed")
    # While the first trains, the second waits its turn, first in line.
    assert scheduler.refresh(first) == "running"
    assert scheduler.refresh(second) == "queued"
    assert scheduler.queue_position(second) == 1
    assert scheduler.queue_position(first) is None
    assert [run.id for run in scheduler.queue()] == [second.id]

    first_status = wait.state(first, "finished", "failed", "cancelled")
    second_status = wait.state(second, "finished", "failed", "cancelled")

    assert first_status["state"] == "finished", first_status.get("error")
    assert second_status["state"] == "finished", second_status.get("error")
    assert second_status["started_at"] >= first_status["finished_at"]
    assert scheduler.queue() == []

    # The first run's folder: everything a person (or the pages) needs.
    history = first.history()
    assert len(history) == 1
    assert (history[0]["epoch"], history[0]["phase"]) == (1, 1)
    assert set(history[0]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert first.model_path.is_file() and first.model_path.stat().st_size > 100_000
    assert json.loads((first.path / "classes.json").read_text()) == ["0", "1"]
    evaluation = json.loads((first.path / "eval" / "test.json").read_text())
    assert evaluation["accuracy"] >= MIN_TEST_ACCURACY, evaluation  # chance is 1/2
    assert sorted(set(evaluation["y_pred"])) == [0, 1]  # not one answer for every image
    assert evaluation["accuracy"] == first_status["test_accuracy"]
    assert evaluation["images"] == len(first.split().test) == 12  # 15% of 80, stratified
    assert sum(map(sum, evaluation["confusion_matrix"])) == 12
    assert first_status["train_images"] == 56 and first_status["epochs_done"] == 1
    expected = count_params("MobileNetV2", 2, None)
    assert (first_status["total_params"], first_status["trainable_params"]) == (expected.total, expected.trainable)
    assert first_status["pid"] != os.getpid() and first_status["phase"] == "finished"


def test_cancel_drops_a_queued_job_and_stops_a_running_one_keeping_its_model(
        tiny_dataset, make_config, wait, one_job_at_a_time):
    dataset = tiny_dataset("tiny", classes=("0", "1"), per_class=40)
    # 28 batches per epoch for 40 epochs: minutes of work unless the cancel is honoured.
    long_job = scheduler.submit(make_config(dataset, epochs=40, batch_size=2))
    queued_job = scheduler.submit(make_config(dataset))

    wait.state(long_job, "running")
    assert scheduler.refresh(queued_job) == "queued"
    scheduler.cancel(queued_job)
    dropped = wait.state(queued_job, "cancelled", "running", "finished", "failed", timeout=30)
    assert dropped["state"] == "cancelled"
    assert dropped["phase"] == "cancelled before it started"
    assert not queued_job.model_path.exists() and queued_job.history() == []

    wait.until(long_job, lambda status: status.get("phase") == "training" and status.get("batch", 0) >= 1,
               what="a trained batch")
    scheduler.cancel(long_job)
    stopped = wait.state(long_job, "cancelled", "finished", "failed", timeout=120)

    assert stopped["state"] == "cancelled", stopped.get("error")
    assert long_job.model_path.is_file()  # what was trained is kept...
    assert len(long_job.history()) < 40  # ...and training stopped early
    kept = long_job.evaluation()  # the kept model was evaluated on the 12 test images
    assert kept["images"] == 12 and sum(map(sum, kept["confusion_matrix"])) == 12
    assert kept["accuracy"] == stopped["test_accuracy"]


def test_job_on_a_single_class_dataset_fails_with_the_dataset_message(tiny_dataset, make_config, wait):
    dataset = tiny_dataset("one-class", classes=("3",), per_class=10)

    run = scheduler.submit(make_config(dataset))
    status = wait.state(run, "failed", "finished", "cancelled")

    assert status["state"] == "failed"
    assert status["error"] == ("'one-class' has 1 class with images (3); a classifier needs at least two class "
                               "sub-folders with images in them.")
    assert status["error_type"] == "DatasetError"
    assert "DatasetError" in run.log_path.read_text()  # the traceback is kept for whoever debugs it
    assert not run.model_path.exists()


def test_a_killed_worker_is_reported_interrupted(tiny_dataset, make_config, wait):
    run = scheduler.submit(make_config(tiny_dataset("tiny", classes=("0", "1"), per_class=40)))
    status = wait.until(run, lambda s: s.get("state") == "running" and s.get("pid"), what="a running worker")

    os.kill(status["pid"], signal.SIGKILL)
    wait.until(run, lambda s: not folders.pid_alive(status["pid"]), timeout=30, what="the worker's death")

    assert scheduler.refresh(run) == "interrupted"
    after = run.status()
    assert after["state"] == "interrupted"
    assert after["error"] == "The job process ended without finishing (killed or crashed)."
    assert scheduler.refresh(run) == "interrupted"  # stays so; nothing restarts it behind the user's back


def test_submit_refuses_an_invalid_config_before_creating_a_run(studio_dirs, make_config):
    with pytest.raises(ValueError, match=r"^MobileNetV2 needs images of at least 32 px \(got 16\)\.$"):
        scheduler.submit(make_config("tiny", image_size=16))

    assert list(studio_dirs.runs.iterdir()) == []


def test_max_parallel_jobs_reads_the_environment(monkeypatch):
    assert scheduler.max_parallel_jobs() == 1
    monkeypatch.setenv("TLSTUDIO_MAX_JOBS", "3")
    assert scheduler.max_parallel_jobs() == 3
    monkeypatch.setenv("TLSTUDIO_MAX_JOBS", "0")
    assert scheduler.max_parallel_jobs() == 1
