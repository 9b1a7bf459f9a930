"""The scheduler step (tlcore.jobs.scheduler.dispatch) on a CPU box with a pretend inventory of GPUs
(TLSTUDIO_FAKE_GPUS): GPUs handed out through CUDA_VISIBLE_DEVICES, a CPU lane beside them, fair share across owners.

Sleep tasks stand in for training (no TensorFlow): a real worker process each where the devices it sees matter,
none at all (start_worker replaced) where only the scheduler's choices are checked.
"""

import pytest

from tlcore.jobs import scheduler
from tlcore.jobs.inventory import FAKE_GPUS_ENV
from tlcore.runs.folders import FINISHED


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setenv(FAKE_GPUS_ENV, "2")


def _sleep(owner="local", gpus=1, steps=2, seconds=0.05, **extra):
    return scheduler.submit_task("sleep", {"steps": steps, "seconds_per_step": seconds}, owner=owner, gpus=gpus,
                                 **extra)


def test_two_gpu_jobs_run_at_once_on_different_gpus_a_third_waits_and_an_export_lane_job_runs_beside_them(
        two_gpus, wait):
    # The two GPU jobs would run for minutes: they hold their GPUs until this test cancels them, so "while both
    # run" is a state the test controls, not a race between sleeps.
    first, second = _sleep(steps=4000), _sleep(steps=4000)
    third = _sleep()
    cpu_job = _sleep(gpus=None)  # a sleep task takes the CPU lane, as export, batch prediction and health do

    running = [wait.until(job, lambda s: s.get("state") == "running", timeout=60, what="its worker") for job in
               (first, second)]
    assert sorted(status["visible_devices"] for status in running) == ["0", "1"]  # each its own GPU
    assert sorted(status["devices"] for status in running) == [["0"], ["1"]]
    assert scheduler.refresh(third) == "queued" and scheduler.queue_position(third) == 1
    assert third.status().get("devices") is None
    cpu_done = wait.state(cpu_job, "finished", "failed", "interrupted", timeout=60)
    assert cpu_done["state"] == FINISHED and cpu_done["visible_devices"] == ""  # no GPU for the CPU lane
    assert scheduler.refresh(first) == "running" and scheduler.refresh(second) == "running"  # it ran while both did
    assert scheduler.refresh(third) == "queued"  # both GPUs still taken

    scheduler.cancel(first)
    first_status = wait.state(first, "cancelled", "finished", "failed", "interrupted", timeout=60)
    third_status = wait.state(third, "finished", "failed", "interrupted", timeout=60)
    assert scheduler.refresh(second) == "running"
    scheduler.cancel(second)
    second_status = wait.state(second, "cancelled", "finished", "failed", "interrupted", timeout=60)

    assert (first_status["state"], second_status["state"], third_status["state"]) == ("cancelled", "cancelled",
                                                                                       FINISHED)
    assert third_status["visible_devices"] == first_status["visible_devices"]  # the GPU the first one freed
    assert third_status["started_at"] >= first_status["finished_at"]
    assert scheduler.queue() == []


@pytest.fixture
def no_workers(monkeypatch):
    """The scheduler's choices only: start_worker records the job and starts nothing."""
    started = []
    monkeypatch.setattr(scheduler, "start_worker", lambda job: started.append(job.id))
    return started


def _finish(job):
    job.update_status(state=FINISHED)
    scheduler.dispatch()


def test_waiting_jobs_are_taken_round_robin_across_owners(monkeypatch, no_workers):
    monkeypatch.setenv(FAKE_GPUS_ENV, "1")
    sweep = [_sleep(owner="ann") for _ in range(3)]  # a sweep submits all its runs at once
    single = _sleep(owner="bob")
    assert no_workers == [sweep[0].id]
    assert [job.id for job in scheduler.queue()] == [sweep[0].id, single.id, sweep[1].id, sweep[2].id]
    assert [scheduler.queue_position(job) for job in (single, sweep[1], sweep[2])] == [2, 3, 4]

    for job in [sweep[0], single, sweep[1]]:
        _finish(job)
    assert no_workers == [sweep[0].id, single.id, sweep[1].id, sweep[2].id]  # bob's single run did not wait


def test_a_job_wanting_two_gpus_is_not_starved_by_one_gpu_jobs_behind_it(two_gpus, no_workers):
    small = _sleep()
    big = _sleep(gpus=2)
    later = _sleep()
    assert no_workers == [small.id]  # big waits for both GPUs; later, behind it in its lane, waits too
    _finish(small)
    assert no_workers == [small.id, big.id] and big.status()["devices"] == ["0", "1"]
    _finish(big)
    assert no_workers[-1] == later.id


def test_training_without_gpus_has_its_own_slots_and_a_request_beyond_the_machine_is_refused(
        monkeypatch, no_workers, make_config):
    monkeypatch.setenv(FAKE_GPUS_ENV, "2")
    with pytest.raises(ValueError, match=r"asks for 3 GPU\(s\) but this machine has 2"):
        scheduler.submit(make_config("tiny"), gpus=3)
    monkeypatch.setenv(FAKE_GPUS_ENV, "0")
    first, second = _sleep(gpus=0, lane="training"), _sleep(gpus=0, lane="training")
    assert no_workers == [first.id]  # TLSTUDIO_MAX_JOBS (default 1) training jobs on a CPU box
    assert scheduler.free_gpus() == ([], [])
    monkeypatch.setenv("TLSTUDIO_MAX_JOBS", "2")
    scheduler.dispatch()
    assert no_workers == [first.id, second.id]


def test_cancel_takes_a_waiting_job_out_at_once_and_its_devices_go_to_the_next(two_gpus, no_workers):
    handed = [_sleep(), _sleep()]
    waiting = _sleep()
    assert scheduler.free_gpus() == ([], ["0", "1"])
    scheduler.cancel(waiting)
    assert waiting.status()["state"] == "cancelled"
    scheduler.cancel(handed[0])  # handed its GPU, its worker has not claimed it yet: cancelled, GPU free again
    assert handed[0].status()["state"] == "cancelled"
    assert scheduler.free_gpus()[0] == handed[0].status()["devices"]
