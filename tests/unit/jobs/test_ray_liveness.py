"""A job on Ray is judged by Ray's status, not a pid (tlcore.jobs.ray_backend.RayLiveness, read by the scheduler).

No cluster here: Ray's answer is replaced, so each of its states is tried."""

import pytest

from tlcore.jobs import ray_backend, scheduler
from tlcore.runs.folders import RUNNING, create_run


@pytest.fixture
def running_on_ray(make_config, monkeypatch):
    """A run marked running on Ray (no pid of ours), and a setter for what Ray answers about it."""
    run = create_run(make_config("anything"))
    run.update_status(state=RUNNING, ray_job_id="tlstudio-x", pid=None)

    def ray_says(state):
        monkeypatch.setattr(ray_backend, "ray_job_state", lambda job_id: state)

    return run, ray_says


def test_a_job_ray_runs_stays_running_and_one_ray_cannot_see_is_not_judged(running_on_ray):
    run, ray_says = running_on_ray
    ray_says("RUNNING")
    assert scheduler.refresh(run, step=False) == "running"
    ray_says(None)  # the head is unreachable: "cannot tell" never marks a job dead
    assert scheduler.refresh(run, step=False) == "running"


def test_a_job_ray_reports_failed_is_interrupted_with_rays_word(running_on_ray):
    run, ray_says = running_on_ray
    ray_says("FAILED")

    assert scheduler.refresh(run, step=False) == "interrupted"
    assert run.status()["error"] == ("The job process ended without finishing (killed or crashed). "
                                     "Ray reports the job FAILED.")


def test_a_job_ray_stopped_after_a_cancel_is_cancelled(running_on_ray):
    run, ray_says = running_on_ray
    run.cancel_path.write_text("")
    ray_says("STOPPED")

    assert scheduler.refresh(run, step=False) == "cancelled"
    assert run.status()["error"] == "Cancelled: Ray stopped the job."


def test_liveness_reads_rays_states():
    assert ray_backend.RayLiveness("RUNNING").alive and not ray_backend.RayLiveness("RUNNING").ended
    assert ray_backend.RayLiveness("SUCCEEDED").ended and not ray_backend.RayLiveness("SUCCEEDED").alive
    assert not ray_backend.RayLiveness(None).known and not ray_backend.RayLiveness(None).ended
    assert ray_backend.RayLiveness(None).reported == ""


def test_a_queued_job_a_restarted_head_lost_is_interrupted_not_queued_forever(make_config, monkeypatch):
    """Issue 31: "jobs lost with a restarted head stay queued". Handed to Ray (dispatched, no worker claimed it yet),
    then the head restarts and answers 404 for the job: it leaves the queue as interrupted and can be queued again."""
    import time

    class RestartedHead:
        def get_job_status(self, job_id):
            raise RuntimeError(f"Request failed with status code 404: Job {job_id} does not exist.")

    monkeypatch.setenv(ray_backend.RAY_ADDRESS_ENV, "http://127.0.0.1:8265")
    monkeypatch.setattr(ray_backend, "_client", lambda address: RestartedHead())
    run = create_run(make_config("anything"))
    run.update_status(state="queued", dispatched_at=time.time(), ray_job_id="tlstudio-lost", pid=None)

    assert scheduler.refresh(run, step=False) == "interrupted"
    assert run.status()["never_started"] is True
    assert scheduler.resume(run, start=False).status()["state"] == "queued"
