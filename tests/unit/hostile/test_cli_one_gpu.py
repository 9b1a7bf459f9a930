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
