"""Cost by depth (exact trainable counts, step seconds estimated from the probe's forward timing), the stored report the pages read, the
task's answer for too little data, and the CLI command."""

import json

import pytest

from tlcore import cli
from tlcore.backbones import TooLittleData, transferability
from tlcore.backbones.freeze_blocks import layer_count
from tlcore.config import TrainConfig
from tlcore.modeling import count_params, freeze_depth


def test_the_step_estimate_adds_the_backward_pass_of_the_layers_that_train():
    # compute 1, 1, 2 (total 4): from depth d the layers d.. train, each adding BACKWARD_FACTOR × its forward share
    assert freeze_depth.BACKWARD_FACTOR == 2.0
    assert freeze_depth.estimate_step_seconds(1.0, [1.0, 1.0, 2.0], [0, 1, 2, 3]) == pytest.approx([3.0, 2.5, 2.0, 1.0])
    assert freeze_depth.estimate_step_seconds(0.5, [1.0, 3.0], [0, 2, 5]) == pytest.approx([1.5, 0.5, 0.5])


def test_trainable_by_depth_is_the_exact_count():
    config = TrainConfig(dataset="x", backbone="MobileNetV2", image_size=32)
    depths = [0, 36, layer_count("MobileNetV2")]
    assert freeze_depth.trainable_by_depth(config, 10, depths) == [
        count_params("MobileNetV2", 10, 0).trainable, count_params("MobileNetV2", 10, 36).trainable,
        count_params("MobileNetV2", 10, None).trainable]


def test_cost_is_estimated_from_the_probes_forward_timing_without_tensorflow():
    """A stored probe is enough for the whole report: the frozen step is the probe's forward time for a batch, every
    shallower depth adds the backward pass of the layers that train; counts are exact; said to be an estimate."""
    count = layer_count("MobileNetV2")
    compute = [1.0] * count
    probe = {"rows": [{"fine_tune_at": 9}, {"fine_tune_at": 81}, {"fine_tune_at": count}],
             "forward_seconds_per_image": 0.01, "layer_compute": compute, "device": "CPU"}
    config = TrainConfig(dataset="x", backbone="MobileNetV2", image_size=32, batch_size=16)
    cost = freeze_depth.cost_by_depth(config, 10, probe)
    rows = {row["fine_tune_at"]: row for row in cost["rows"]}
    assert sorted(rows) == [0, 9, 81, count]
    frozen = 0.01 * 16
    assert rows[count]["seconds_per_step"] == pytest.approx(frozen)
    assert rows[0]["seconds_per_step"] == pytest.approx(frozen * 3)
    assert rows[81]["seconds_per_step"] == pytest.approx(frozen * (1 + 2 * (count - 81) / count), abs=1e-5)
    assert rows[9]["seconds_per_step"] > rows[81]["seconds_per_step"] > rows[count]["seconds_per_step"]
    assert [row["trainable_params"] for row in cost["rows"]] == freeze_depth.trainable_by_depth(config, 10,
                                                                                                 sorted(rows))
    assert "estimate" in cost["note"] and cost["device"] == "CPU"
    assert cost["memory_note"] == freeze_depth.MEMORY_NOT_MEASURED and not any(row["timed"] for row in cost["rows"])
    doubled = freeze_depth.cost_by_depth(TrainConfig(dataset="x", backbone="MobileNetV2", image_size=32,
                                                     batch_size=32), 10, probe)
    assert doubled["rows"][0]["seconds_per_step"] == pytest.approx(2 * rows[0]["seconds_per_step"])


def test_the_task_answers_too_little_data_with_the_counts(monkeypatch):
    def refuse(*args, **kwargs):
        raise TooLittleData("every class needs at least 2", {"dog": 5, "cat": 1})

    monkeypatch.setattr(transferability, "probe_by_depth", refuse)
    config = TrainConfig(dataset="x", backbone="MobileNetV2", image_size=32, weights="random")
    result = freeze_depth.transferability_task(freeze_depth.task_params(config, 2), lambda fraction, message: None)
    assert result == {"error": "every class needs at least 2", "class_counts": {"dog": 5, "cat": 1}}


def test_cli_prints_the_probe_cost_and_recommendation(tiny_dataset, monkeypatch, capsys):
    dataset = tiny_dataset("tiny-cli", classes=("0", "1"), per_class=12)
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
