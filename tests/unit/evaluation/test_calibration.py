"""tlcore.evaluation.calibration: reliability bins and expected calibration error against values worked out by hand."""

import numpy as np
import pytest

from tlcore.evaluation.calibration import calibration_summary, expected_calibration_error, reliability_bins


def test_ece_equals_the_hand_computed_value():
    # bins (0.9,1]: 0.95 right → gap 0.05 · (0.8,0.9]: 0.85 right, 0.85 wrong → acc 0.5, gap 0.35
    # (0.5,0.6]: 0.55 wrong → gap 0.55 · (0.2,0.3]: 0.3 right → gap 0.7
    # ECE = (1·0.05 + 2·0.35 + 1·0.55 + 1·0.7) / 5 = 2.0 / 5
    confidence = np.array([0.95, 0.85, 0.85, 0.55, 0.3])
    correct = np.array([True, True, False, False, True])

    bins = reliability_bins(confidence, correct, n_bins=10)

    assert expected_calibration_error(bins) == pytest.approx(0.4)
    assert [row["images"] for row in bins] == [0, 0, 1, 0, 0, 1, 0, 0, 2, 1]
    assert bins[8] == pytest.approx({"lower": 0.8, "upper": 0.9, "images": 2, "accuracy": 0.5, "confidence": 0.85})
    assert bins[0]["accuracy"] is None and bins[0]["confidence"] is None


def test_bins_are_right_closed_and_zero_goes_to_the_first():
    bins = reliability_bins(np.array([0.0, 0.1, 0.5, 0.5000001, 1.0]), np.ones(5, bool), n_bins=10)

    assert [row["images"] for row in bins] == [2, 0, 0, 0, 1, 1, 0, 0, 0, 1]


def test_a_model_exactly_as_sure_as_it_is_right_has_zero_ece():
    confidence = np.array([0.75] * 4 + [0.25] * 4)
    correct = np.array([True, True, True, False, True, False, False, False])

    assert expected_calibration_error(reliability_bins(confidence, correct)) == pytest.approx(0.0)


def test_summary_from_probabilities_uses_the_top_probability_and_argmax():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])  # conf .9 right, .8 right, .6 wrong

    summary = calibration_summary(probabilities, np.array([0, 1, 1]), n_bins=5)

    assert summary["n_bins"] == 5 and len(summary["bins"]) == 5
    # (0.8,1]: .9 and .8 → acc 1, conf .85, gap .15 ×2 · (0.4,0.6]: .6 wrong → gap .6
    assert summary["ece"] == pytest.approx((2 * 0.15 + 0.6) / 3)


def test_no_images_gives_zero_and_empty_bins():
    summary = calibration_summary(np.zeros((0, 3)), np.zeros(0, int))

    assert summary["ece"] == 0.0 and all(row["images"] == 0 for row in summary["bins"])
