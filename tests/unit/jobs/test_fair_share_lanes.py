"""Fair share counts turns per kind of slot (issue 31: "CPU-lane tasks use up a user's training turn"): an export or
batch prediction of a member's that runs in the CPU lane does not push her training behind another member's, and a
training of hers does not push her exports back either. Sleep tasks stand in for both; no worker is started."""

import pytest

from tlcore.jobs import scheduler
from tlcore.jobs.inventory import FAKE_GPUS_ENV
from tlcore.runs.folders import FINISHED


@pytest.fixture
def no_workers(monkeypatch):
    """The scheduler's choices only: start_worker records the job and starts nothing."""
    started = []
    monkeypatch.setattr(scheduler, "start_worker", lambda job: started.append(job.id))
    return started


def _sleep(owner, gpus=1, **extra):
    return scheduler.submit_task("sleep", {"steps": 1, "seconds_per_step": 0.01}, owner=owner, gpus=gpus, **extra)


def test_an_export_running_does_not_cost_its_owner_a_training_turn(monkeypatch, no_workers):
    monkeypatch.setenv(FAKE_GPUS_ENV, "1")
    ann_export = _sleep("ann", gpus=None)  # the CPU lane, as an export takes it
    carl_training = _sleep("carl")  # holds the one GPU
    ann_training, bob_training = _sleep("ann"), _sleep("bob")  # Ann queued first
    assert no_workers == [ann_export.id, carl_training.id]
    assert [job.id for job in scheduler.queue()] == [ann_export.id, carl_training.id, ann_training.id,
                                                     bob_training.id]

    carl_training.update_status(state=FINISHED)
    scheduler.dispatch()

    assert no_workers[-1] == ann_training.id  # her export, still running, took no training turn
    assert bob_training.status()["state"] == "queued" and not bob_training.status().get("dispatched_at")


def test_a_training_running_does_not_cost_its_owner_a_cpu_lane_turn(monkeypatch, no_workers):
    monkeypatch.setenv(FAKE_GPUS_ENV, "1")
    monkeypatch.setenv("TLSTUDIO_CPU_JOBS", "1")
    ann_training = _sleep("ann")  # the GPU
    carl_export = _sleep("carl", gpus=None)  # the one CPU-lane slot
    ann_export, bob_export = _sleep("ann", gpus=None), _sleep("bob", gpus=None)
    assert no_workers == [ann_training.id, carl_export.id]

    carl_export.update_status(state=FINISHED)
    scheduler.dispatch()

    assert no_workers[-1] == ann_export.id
    assert bob_export.status()["state"] == "queued" and not bob_export.status().get("dispatched_at")
