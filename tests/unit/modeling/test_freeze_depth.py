"""Cost by depth (exact trainable counts, timed-and-interpolated step seconds), the stored report the pages read, the
task's answer for too little data, and the CLI command."""

import json

import pytest

from tlcore import cli
from tlcore.backbones import TooLittleData, transferability
from tlcore.backbones.freeze_blocks import layer_count
from tlcore.config import TrainConfig
from tlcore.modeling import count_params, freeze_depth


def test_timed_depths_keep_both_ends_and_interpolation_is_linear_by_layer_index():
    depths = [0, 9, 18, 27, 36, 45, 154]
    assert freeze_depth.timed_depths(depths, 3) == [0, 27, 154]
    assert freeze_depth.timed_depths([0, 5], 3) == [0, 5]
    assert freeze_depth.interpolate([0, 50, 100, 150], {0: 1.0, 100: 0.5}) == [1.0, 0.75, 0.5, 0.5]


def test_trainable_by_depth_is_the_exact_count():
    config = TrainConfig(dataset="x", backbone="MobileNetV2", image_size=32)
    depths = [0, 36, layer_count("MobileNetV2")]
    assert freeze_depth.trainable_by_depth(config, 10, depths) == [
        count_params("MobileNetV2", 10, 0).trainable, count_params("MobileNetV2", 10, 36).trainable,
        count_params("MobileNetV2", 10, None).trainable]


def test_cost_times_a_few_depths_and_interpolates_the_rest(monkeypatch):
    timed = []
    monkeypatch.setattr(freeze_depth, "time_training_step",
                        lambda config, classes, depth: (timed.append(depth) or 1.0 - depth / 200, None))
    monkeypatch.setattr(freeze_depth, "_device_name", lambda: "CPU")
    config = TrainConfig(dataset="x", backbone="MobileNetV2", image_size=32)
    depths = [0, 9, 18, 81, 154]
    cost = freeze_depth.cost_by_depth(config, 10, depths)
    assert timed == [0, 18, 154]
    rows = {row["fine_tune_at"]: row for row in cost["rows"]}
    assert rows[9]["seconds_per_step"] == pytest.approx(1.0 - 9 / 200) and not rows[9]["timed"]
    assert rows[18]["timed"] and cost["memory_note"] == freeze_depth.MEMORY_NOT_REPORTED
    assert freeze_depth.cost_by_depth(config, 10, depths)["cached"]
    assert len(timed) == 3, "the second call reads the cache"


def test_the_task_answers_too_little_data_with_the_counts(monkeypatch):
    def refuse(*args, **kwargs):
        raise TooLittleData("every class needs at least 2", {"dog": 5, "cat": 1})

    monkeypatch.setattr(transferability, "probe_by_depth", refuse)
    config = TrainConfig(dataset="x", backbone="MobileNetV2", image_size=32, weights="random")
    result = freeze_depth.transferability_task(freeze_depth.task_params(config, 2), lambda fraction, message: None)
    assert result == {"error": "every class needs at least 2", "class_counts": {"dog": 5, "cat": 1}}


def test_cli_prints_the_probe_cost_and_recommendation(tiny_dataset, monkeypatch, capsys):
    dataset = tiny_dataset("tiny-cli", classes=("0", "1"), per_class=12)
    monkeypatch.setattr(freeze_depth, "time_training_step", lambda config, classes, depth: (0.2 - depth / 1000, None))
    assert cli.main(["transferability", dataset, "--backbone", "MobileNetV2", "--image-size", "32",
                     "--weights", "random", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    probe, cost = result["probe"], result["cost"]
    assert len(probe["rows"]) == len(transferability.tap_points("MobileNetV2")[0])
    assert probe["rows"][0]["feature_width"] == 16 and probe["rows"][-1]["feature_width"] == 1280
    assert all(0 <= row["accuracy"] <= 1 for row in probe["rows"])
    assert probe["recommended_fine_tune_at"] == transferability.recommended_row(probe["rows"])["fine_tune_at"]
    assert [row["fine_tune_at"] for row in cost["rows"]] == freeze_depth.cost_depths(probe)
    assert cli.main(["transferability", dataset, "--backbone", "MobileNetV2", "--image-size", "32",
                     "--weights", "random"]) == 0
    text = capsys.readouterr().out
    assert "<- recommended" in text and "fold-spread" in text


def test_cli_too_little_data_prints_counts(tiny_dataset, monkeypatch, capsys):
    dataset = tiny_dataset("tiny-cli-small", classes=("0", "1"), per_class=12)

    def refuse(*args, **kwargs):
        raise TooLittleData("Too few training images for a cross-validated probe", {"0": 8, "1": 1})

    monkeypatch.setattr(transferability, "probe_by_depth", refuse)
    assert cli.main(["transferability", dataset, "--backbone", "MobileNetV2", "--weights", "random"]) == 2
    captured = capsys.readouterr()
    assert "Too few training images" in captured.err and "1 training images" in captured.out
