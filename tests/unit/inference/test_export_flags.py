"""What the export report says beside the numbers: stale exports (the calibration changed since), runs whose parity
proves nothing (one answer for every image, or accuracy near chance), the quantization-aware row, and client input
prepared exactly as metadata.json says. No TensorFlow: plain arrays and JSON files."""

import json

import numpy as np
import pytest

from tlcore.inference.export import (
    QAT_UNAVAILABLE,
    _offer_qat,
    chance_warning,
    export_metadata,
    representative_items,
    staleness,
)
from tlcore.inference.calibrated import Confidence
from tlcore.inference.runtimes import client_input, latency_stats
from tlcore.runs.folders import Run


def _run_with(tmp_path, report: dict, calibration: dict | None) -> Run:
    folder = tmp_path / "run"
    (folder / "exports").mkdir(parents=True)
    (folder / "eval").mkdir()
    (folder / "exports" / "report.json").write_text(json.dumps(report))
    if calibration is not None:
        (folder / "eval" / "calibration.json").write_text(json.dumps(calibration))
    return Run(folder)


EXPORTED = {"formats": {"onnx": {"format": "onnx", "path": "onnx/model.onnx"}}, "temperature": 1.5, "threshold": 0.8, "target_accuracy": 0.95}


def test_exports_made_with_the_current_calibration_are_not_stale(tmp_path):
    run = _run_with(tmp_path, EXPORTED, {"temperature": 1.5, "reject": {"threshold": 0.8, "target_accuracy": 0.95}})

    assert staleness(run) is None


def test_a_new_threshold_or_temperature_marks_the_exports_stale(tmp_path):
    """evaluate --target-accuracy 0.80 rewrites the calibration; the exports still hold the old threshold."""
    run = _run_with(tmp_path, EXPORTED, {"temperature": 1.2, "reject": {"threshold": 0.6, "target_accuracy": 0.8}})

    assert staleness(run) == 'temperature 1.5 → 1.2; "not sure" threshold 0.8 → 0.6; target 95% → 80%'


def test_re_exporting_one_format_leaves_the_others_stale(tmp_path):
    report = {**EXPORTED, "temperature": 1.2, "threshold": 0.6, "target_accuracy": 0.8, "formats": {
        "onnx": {"format": "onnx", "path": "onnx/model.onnx", "temperature": 1.2, "threshold": 0.6,
                 "target_accuracy": 0.8},
        "keras": {"format": "keras", "path": "keras/model.keras", "temperature": 1.5, "threshold": 0.8,
                  "target_accuracy": 0.95}}}
    run = _run_with(tmp_path, report, {"temperature": 1.2, "reject": {"threshold": 0.6, "target_accuracy": 0.8}})

    assert staleness(run) == 'temperature 1.5 → 1.2; "not sure" threshold 0.8 → 0.6; target 95% → 80%'
    del report["formats"]["keras"]
    assert staleness(_run_with(tmp_path / "again", report, {"temperature": 1.2, "reject": {
        "threshold": 0.6, "target_accuracy": 0.8}})) is None


def test_a_run_never_exported_is_not_stale(tmp_path):
    assert staleness(_run_with(tmp_path, {"formats": {}}, {"temperature": 2.0})) is None


def test_one_answer_for_every_image_is_flagged():
    labels = np.array([0, 1, 2, 0, 1, 2])
    constant = np.tile([0.2, 0.5, 0.3], (6, 1))

    assert "same answer for every test image" in chance_warning(constant, labels)


def test_accuracy_within_two_points_of_chance_is_flagged_and_a_good_run_is_not():
    labels = np.repeat([0, 1], 50)
    near_chance = np.eye(2)[np.r_[labels[:51], 1 - labels[51:]]]  # 51 % right: chance is 50 %
    good = np.eye(2)[np.r_[labels[:90], 1 - labels[90:]]]  # 90 % right

    assert "within 2% of chance (50.0%)" in chance_warning(near_chance, labels)
    assert chance_warning(good, labels) is None


def test_chance_is_the_most_common_class_when_classes_are_unbalanced():
    labels = np.array([0] * 90 + [1] * 10)
    always_zero_but_one = np.eye(2)[np.r_[np.zeros(99, int), [1]]]  # 91 % right: always answering 0 gets 90 %

    assert "chance (90.0%)" in chance_warning(always_zero_but_one, labels)


def test_int8_far_below_float32_gets_the_quantization_aware_row_with_its_honest_answer():
    rows = {"tflite-f32": {"test_accuracy": 0.95}, "tflite-int8": {"test_accuracy": 0.92}}
    _offer_qat(rows)

    assert rows["tflite-int8"]["accuracy_drop_from_float32"] == pytest.approx(0.03)
    assert rows["tflite-int8-qat"]["unavailable"] == QAT_UNAVAILABLE and "Keras 3" in QAT_UNAVAILABLE
    rows["tflite-int8"]["test_accuracy"] = 0.945
    _offer_qat(rows)
    assert "tflite-int8-qat" not in rows


def test_client_input_follows_the_metadata():
    metadata = export_metadata(["a", "b"], 4, Confidence())
    images = np.arange(2 * 4 * 4 * 3).reshape(2, 4, 4, 3).astype(np.uint8)

    fed = client_input(images, metadata)
    assert fed.dtype == np.float32 and fed.shape == (2, 4, 4, 3) and np.array_equal(fed, images)
    metadata["input"].update(channel_order="BGR", range=[-1, 1], layout="NCHW", shape=[None, 3, 4, 4])
    fed = client_input(images, metadata)
    assert fed.shape == (2, 3, 4, 4)
    assert np.allclose(fed[:, 0], images[..., 2] / 127.5 - 1)  # first channel is blue
    with pytest.raises(ValueError, match="Images are 4×4; this model takes 8×8"):
        client_input(images, export_metadata(["a", "b"], 8, Confidence()))


def test_latency_is_a_median_of_repeats_with_its_spread():
    calls = []
    stats = latency_stats(lambda batch: calls.append(1), np.zeros((1, 2, 2, 3), np.float32), repeats=11)

    assert len(calls) == 3 + 11  # three warm-up calls, then the timed ones
    assert stats["latency_repeats"] == 11
    assert stats["latency_p10_ms"] <= stats["latency_ms"] <= stats["latency_p90_ms"]


def test_the_int8_calibration_set_is_balanced_by_class_and_all_of_a_small_split():
    """A rare class still sets the int8 ranges: items are taken round-robin over the classes, seeded."""
    train = [(f"a/{i}.png", 0) for i in range(50)] + [(f"b/{i}.png", 1) for i in range(5)] + \
        [(f"c/{i}.png", 2) for i in range(20)]

    chosen = representative_items(train, 12)
    assert len(chosen) == 12 and len(set(chosen)) == 12
    assert [sum(1 for _, label in chosen if label == k) for k in range(3)] == [4, 4, 4]
    assert [label for _, label in chosen[:6]] == [0, 1, 2, 0, 1, 2]
    rare_first = representative_items(train, 30)
    assert sum(1 for _, label in rare_first if label == 1) == 5  # every image of the rare class
    assert sorted(representative_items(train, 1000)) == sorted(train)  # a small split: all of it
    assert representative_items(train, 12) == chosen and representative_items([], 10) == []
