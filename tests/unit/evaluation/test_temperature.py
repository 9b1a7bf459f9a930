"""tlcore.evaluation.temperature: the fitted temperature undoes a known over- (or under-) confidence and lowers ECE."""

import numpy as np
import pytest

from tlcore.evaluation.calibration import calibration_summary
from tlcore.evaluation.temperature import MAX_TEMPERATURE, MIN_TEMPERATURE, fit_temperature, log_loss
from tlcore.inference.calibrated import scaled_probabilities


def _sampled(n: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits z and labels drawn from softmax(z): a model with these logits is calibrated by construction."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 2.0, size=(n, classes))
    probabilities = scaled_probabilities(logits)
    labels = np.array([rng.choice(classes, p=row) for row in probabilities])
    return logits, labels


def _ece(logits, labels, temperature=1.0) -> float:
    return calibration_summary(scaled_probabilities(logits, temperature), labels)["ece"]


@pytest.mark.parametrize("factor", [3.0, 0.5])
def test_a_model_with_known_miscalibration_gets_the_temperature_that_undoes_it(factor):
    """The model reports factor × the calibrated logits: T ≈ factor brings them back, ECE falls."""
    logits, labels = _sampled(3000, 4)
    reported = factor * logits

    fit = fit_temperature(reported, labels)

    assert fit.temperature == pytest.approx(factor, rel=0.1)
    assert fit.log_loss_after < fit.log_loss_before
    assert fit.log_loss_before == pytest.approx(log_loss(reported, labels))
    assert _ece(reported, labels, fit.temperature) < _ece(reported, labels) / 2
    assert _ece(reported, labels) > 0.05  # the miscalibration was real


def test_a_binary_sigmoid_head_is_fitted_on_its_one_logit():
    rng = np.random.default_rng(1)
    z = rng.normal(0.0, 2.0, size=(3000, 1))
    labels = (rng.random(3000) < 1 / (1 + np.exp(-z[:, 0]))).astype(int)
    reported = 4.0 * z

    fit = fit_temperature(reported, labels)

    assert fit.temperature == pytest.approx(4.0, rel=0.1)
    calibrated = scaled_probabilities(reported, fit.temperature)
    assert calibrated.shape == (3000, 2)
    assert calibrated[:, 1] == pytest.approx(1 / (1 + np.exp(-reported[:, 0] / fit.temperature)))
    assert _ece(reported, labels, fit.temperature) < _ece(reported, labels) / 2


def test_log_loss_is_scikit_learns_on_the_scaled_probabilities():
    from sklearn.metrics import log_loss as sklearn_log_loss

    logits, labels = _sampled(200, 3, seed=2)

    assert log_loss(logits, labels, 1.7) == pytest.approx(
        sklearn_log_loss(labels, scaled_probabilities(logits, 1.7), labels=[0, 1, 2]))


def test_a_calibrated_model_keeps_a_temperature_near_one():
    logits, labels = _sampled(3000, 3, seed=3)

    assert fit_temperature(logits, labels).temperature == pytest.approx(1.0, abs=0.1)


def test_without_mistakes_or_images_the_temperature_stays_one_and_says_why():
    logits = np.array([[5.0, 0.0], [0.0, 4.0], [3.0, -1.0]])

    perfect = fit_temperature(logits, np.array([0, 1, 0]))
    empty = fit_temperature(np.zeros((0, 3)), np.zeros(0))

    assert perfect.temperature == 1.0 and "every validation image is right" in perfect.note
    assert perfect.log_loss_after == perfect.log_loss_before
    assert empty.temperature == 1.0 and empty.images == 0 and "no validation images" in empty.note


def test_the_temperature_stays_within_its_bounds():
    """Labels that contradict the logits completely: the best T is as large as allowed (near uniform)."""
    logits = np.array([[8.0, 0.0], [0.0, 8.0]] * 50)
    labels = np.array([1, 0] * 50)

    fit = fit_temperature(logits, labels)

    assert MIN_TEMPERATURE <= fit.temperature <= MAX_TEMPERATURE
    assert fit.temperature == pytest.approx(MAX_TEMPERATURE, rel=0.01)
