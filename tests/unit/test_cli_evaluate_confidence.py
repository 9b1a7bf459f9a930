"""`python -m tlcore evaluate RUN` reports the run's temperature, ECE before and after, and its "not sure" threshold;
`--target-accuracy` chooses the threshold again and stores it."""

import json

import pytest
from test_cli import tlcore

from tlcore.inference.calibrated import read_calibration


def test_evaluate_json_reports_temperature_ece_before_and_after_and_the_threshold(calibrated_run):
    record = read_calibration(calibrated_run)

    done = tlcore("evaluate", calibrated_run.id, "--json")

    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    calibration, reject = report["calibration"], report["reject"]
    assert calibration["temperature"] == pytest.approx(record["temperature"])
    assert calibration["fitted_on"] == "validation" and calibration["measured_on"] == "test"
    assert calibration["ece_before"] == pytest.approx(record["held_out"]["ece_before"])
    assert calibration["ece_after"] == pytest.approx(record["held_out"]["ece_after"])
    assert calibration["ece_before"] == pytest.approx(report["ece"], abs=1e-4)  # the stored, uncalibrated ECE
    assert reject["threshold"] == pytest.approx(record["reject"]["threshold"])
    assert reject["target_accuracy"] == 0.95
    assert reject["held_out_split"] == "test" and 0 <= reject["held_out_coverage"] <= 1


def test_target_accuracy_chooses_and_stores_a_new_threshold_and_the_text_says_it(calibrated_run):
    done = tlcore("evaluate", calibrated_run.id, "--target-accuracy", "1.0")

    assert done.returncode == 0, done.stderr[-3000:]
    reject = read_calibration(calibrated_run)["reject"]
    assert reject["target_accuracy"] == 1.0
    lines = done.stdout.splitlines()
    assert lines[1].startswith(f"temperature {read_calibration(calibrated_run)['temperature']:.4f} (fitted on 27 "
                               "validation images): ECE on test ")
    assert lines[2].startswith(f"not sure below {reject['threshold']:.4f}: target 100.0% "
                               f"{'met' if reject['met'] else 'NOT met'} on validation")


def test_a_run_evaluated_before_calibration_existed_is_calibrated_on_first_ask(calibrated_run):
    (calibrated_run.path / "eval" / "calibration.json").unlink()

    done = tlcore("evaluate", calibrated_run.id, "--json")

    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["calibration"]["temperature"] == read_calibration(calibrated_run)["temperature"]
