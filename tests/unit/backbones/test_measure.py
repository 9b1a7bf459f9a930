"""Measured figures (parameters, layers, feature size, latency on this device) and the Pareto front of the scatter."""

from __future__ import annotations

import re

import pytest

from tlcore.figures import backbones as figures


def test_pareto_front_keeps_only_unbeaten_points():
    points = [
        {"name": "fast-weak", "cpu_ms": 10, "top1": 0.70},
        {"name": "dominated", "cpu_ms": 20, "top1": 0.69},  # slower and worse than fast-weak
        {"name": "middle", "cpu_ms": 30, "top1": 0.75},
        {"name": "tie-slower", "cpu_ms": 40, "top1": 0.75},  # same accuracy for more time: not on the front
        {"name": "slow-strong", "cpu_ms": 100, "top1": 0.80},
        {"name": "no-latency", "cpu_ms": None, "top1": 0.99},  # missing figure: cannot be placed
    ]
    assert figures.pareto_front(points) == ["fast-weak", "middle", "slow-strong"]
    assert figures.pareto_front(points, x="size_mb") == []


def test_published_scatter_draws_front_as_line():
    from tlcore.backbones import registry as backbones

    rows = backbones.published_table()
    figure = figures.published_scatter(rows)
    front_trace = [trace for trace in figure.data if "Pareto" in (trace.name or "")][0]
    assert list(front_trace.text) == figures.pareto_front(rows)
    assert "lines" in front_trace.mode
    # Published docs: MobileNet (22.6 ms, 70.4%) is the fastest, so it starts the front; EfficientNetB7 (84.3%) ends it.
    assert front_trace.text[0] == "MobileNet" and front_trace.text[-1] == "EfficientNetB7"
    assert "VGG19" not in front_trace.text  # 84.8 ms for 71.3%: beaten by MobileNetV2
    assert "NASNetLarge" not in front_trace.text  # 344.5 ms for 82.5%: EfficientNetB4 is faster and better


def test_measure_mobilenetv2_at_32px_matches_keras_and_is_cached():
    from tlcore.backbones import measure
    from tlcore.backbones.catalog import layer_table

    result = measure.measure_backbone("MobileNetV2", 32)
    table = layer_table("MobileNetV2")
    assert result["parameters"] == sum(row.trainable + row.non_trainable for row in table.layers) == 2_257_984
    assert result["layers"] == len(table.layers)
    assert result["feature_dim"] == 1280
    assert 0 < result["ms_per_image_batch32"] < 1000 and 0 < result["ms_per_image_batch1"] < 1000
    assert result["images_per_s_batch32"] == pytest.approx(1000 / result["ms_per_image_batch32"], rel=0.01)
    assert re.fullmatch(r"CPU \(\d+ cores\)", result["device"]) or "CPU" not in result["device"]
    assert result["cached"] is False
    again = measure.measure_backbone("MobileNetV2", 32)
    assert again["cached"] is True and again["ms_per_image_batch1"] == result["ms_per_image_batch1"]
    assert measure.cache_path(result["device"], "MobileNetV2", 32).is_file()
    assert [row["backbone"] for row in measure.cached_measurements(32)] == ["MobileNetV2"]
    assert measure.cached_measurements(64) == []


def test_measure_task_reports_progress_and_keeps_going_after_a_bad_size():
    from tlcore.backbones import measure

    progress = []
    result = measure.measure_task({"backbones": ["InceptionV3", "MobileNetV2"], "image_size": 32},
                                  lambda fraction, message: progress.append((fraction, message)))
    bad, good = result["rows"]
    assert "at least 75 px" in bad["error"]
    assert good["backbone"] == "MobileNetV2" and good["feature_dim"] == 1280
    assert progress[-1] == (1.0, "done") and result["device"] == good["device"]


def test_measure_task_runs_through_the_job_queue():
    from tlcore.jobs import tasks
    from tlcore.worker import run_job

    task = tasks.create_task("measure", {"backbones": ["MobileNetV2"], "image_size": 32})
    assert run_job(task, wait=False) == "finished"
    assert tasks.task_result(task)["rows"][0]["parameters"] == 2_257_984
    assert task.status()["progress"] == 1.0


def test_cli_measure_json(capsys):
    import json

    from tlcore.cli import main

    assert main(["measure", "--backbone", "MobileNetV2", "--image-size", "32", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["image_size"] == 32 and result["rows"][0]["parameters"] == 2_257_984
    assert main(["measure", "--backbone", "InceptionV3", "--image-size", "32", "--json"]) == 1  # too small: exit 1
    assert "at least 75 px" in json.loads(capsys.readouterr().out)["rows"][0]["error"]
