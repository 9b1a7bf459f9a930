"""CLI commands that run TensorFlow in their own process take one free GPU with memory growth, never every GPU
(issue 31, item 9): a prediction from a shell does not grab the memory a queued training job was given."""

from __future__ import annotations

from tlcore import cli
from tlcore.jobs import inventory


def test_a_cli_prediction_sees_one_free_gpu_with_memory_growth(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    monkeypatch.setattr(inventory, "gpu_ids", lambda: ["0", "1"])
    monkeypatch.setattr(cli.jobs, "free_gpus", lambda: (["1"], ["0", "1"]))
    monkeypatch.setattr(cli.sys, "modules", {k: v for k, v in cli.sys.modules.items() if k != "tensorflow"})

    cli._one_gpu_with_growth()

    assert cli.os.environ["CUDA_VISIBLE_DEVICES"] == "1"
    assert cli.os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


def test_an_explicit_device_choice_is_left_alone(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    cli._one_gpu_with_growth()
    assert cli.os.environ["CUDA_VISIBLE_DEVICES"] == "3"


def test_a_job_unknown_to_a_restarted_ray_head_is_lost_and_its_run_interrupted(monkeypatch, studio_dirs):
    import time

    from tlcore.config import TrainConfig
    from tlcore.jobs import ray_backend, scheduler
    from tlcore.runs.folders import create_run

    class RestartedHead:
        def get_job_status(self, job_id):
            raise RuntimeError(f"Request failed with status code 404: Job {job_id} does not exist.")

    monkeypatch.setenv(ray_backend.RAY_ADDRESS_ENV, "http://127.0.0.1:8265")
    monkeypatch.setattr(ray_backend, "_client", lambda address: RestartedHead())
    run = create_run(TrainConfig(dataset="d"))
    run.update_status(state="running", pid=12345, host="gpu-node-7", started_at=time.time(), ray_job_id="raysubmit_1")

    assert ray_backend.ray_job_state("raysubmit_1") == ray_backend.LOST
    assert scheduler.refresh(run, step=False) == "interrupted"
    assert "LOST" in run.status()["error"]
    assert run.status()["state"] in scheduler.RESUMABLE_STATES
