"""tlcore.evaluation.confidence on a real, discriminating model: the temperature fitted on validation lowers the
ECE of an over-confident model on its held-out split, the threshold meets its target on validation, and both are
stored where prediction reads them."""

import json

import numpy as np
import pytest

from tlcore.evaluation.confidence import calibrate_run, confidence_summary, reject_curve, set_target_accuracy
from tlcore.evaluation.reject import answered_at
from tlcore.inference.calibrated import read_calibration, stored_confidence


@pytest.fixture(scope="module")
def master_model(calibrated_run_master):
    from tlcore.layers.loading import load_model

    return load_model(calibrated_run_master / "model.keras")


def _overconfident(model, factor: float):
    """The same model with its classifier's logits multiplied by `factor` (a known over-confidence)."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    head = copy.layers[-1]
    head.kernel.assign(head.kernel.numpy() * factor)
    head.bias.assign(head.bias.numpy() * factor)
    return copy


def test_the_stored_record_of_a_trained_run(calibrated_run):
    record = read_calibration(calibrated_run)
    split = calibrated_run.split()

    assert record["fitted_on"] == "validation" and record["head"] == "softmax"
    assert record["validation"]["images"] == len(split.val) == 27
    assert record["held_out"]["split"] == "test" and record["held_out"]["images"] == len(split.test)
    assert record["held_out"]["ece_before"] == pytest.approx(calibrated_run.evaluation()["calibration"]["ece"],
                                                            abs=1e-4)  # same images, same model as eval/test.json
    assert stored_confidence(calibrated_run).temperature == record["temperature"]
    assert stored_confidence(calibrated_run).threshold == record["reject"]["threshold"]
    assert (calibrated_run.path / "exports" / "model_card.md").exists()


def _mean_confidence(reliability: dict) -> float:
    """The mean top-class probability of a reliability record (its bins' confidences, weighted by their images)."""
    bins = [b for b in reliability["bins"] if b["images"]]
    return sum(b["confidence"] * b["images"] for b in bins) / sum(b["images"] for b in bins)


def test_temperature_takes_back_the_over_confidence_of_a_model_with_scaled_logits(calibrated_run, master_model):
    """Logits ×4: the fitted temperature is 4× the model's own, and the calibrated probabilities (so the ECE after)
    are those of the original model calibrated, whatever its over-confidence was.

    Over-confidence is measured as mean confidence minus accuracy on the 27 held-out images: the ECE of so few images
    in 10 bins can stay put when ×4 moves every image into the top bin (measured 0.1290 → 0.1294 on one machine,
    where the mean confidence rose from 0.90 to 0.98 at 0.89 accuracy)."""
    run = calibrated_run
    original = read_calibration(run)
    model = _overconfident(master_model, 4.0)
    root = run.path.parent.parent / "data" / "digits3"

    record = calibrate_run(run, model, root, 32)

    held_out, validation = record["held_out"], record["validation"]
    accuracy = sum(held_out["correct"]) / len(held_out["correct"])
    over_before = _mean_confidence(held_out["before"]) - accuracy
    assert record["temperature"] == pytest.approx(4.0 * original["temperature"], rel=0.02)
    assert over_before > _mean_confidence(original["held_out"]["before"]) - accuracy + 0.05  # ×4 logits: surer
    assert _mean_confidence(held_out["after"]) - accuracy < over_before - 0.05  # the temperature takes it back
    assert validation["log_loss_after"] < validation["log_loss_before"]  # what the fit minimises
    assert held_out["log_loss_after"] < held_out["log_loss_before"] - 0.3
    assert held_out["ece_after"] == pytest.approx(original["held_out"]["ece_after"], abs=0.01)
    assert held_out["confidence"] == pytest.approx(original["held_out"]["confidence"], abs=0.01)
    summary = confidence_summary(read_calibration(run))["calibration"]
    assert (summary["ece_before"], summary["ece_after"]) == (held_out["ece_before"], held_out["ece_after"])


@pytest.mark.parametrize("target", [0.8, 0.9, 1.0])
def test_the_threshold_is_supported_on_validation_or_says_why_not(calibrated_run, target):
    """Supported: the 95 % lower bound on the answered validation images' accuracy reaches the target. This run has
    few validation images, so a strict target is honestly not met (100 % never is)."""
    record = set_target_accuracy(calibrated_run, target)

    reject, validation = record["reject"], record["validation"]
    assert reject["target_accuracy"] == target
    assert reject["met"] == (reject["lower_bound"] >= target)
    if target == 1.0:
        assert reject["met"] is False and reject["answers_needed"] is None
    reached = answered_at(validation["confidence"], validation["correct"], reject["threshold"])
    assert reached["accuracy"] >= reject["lower_bound"]
    assert reached["accuracy"] >= target or not reject["met"]
    assert reached["answered"] == reject["supported_by"]
    assert reached["coverage"] == reject["coverage"] > 0
    assert read_calibration(calibrated_run)["reject"] == reject  # stored
    assert stored_confidence(calibrated_run).threshold == reject["threshold"]
    held = reject["held_out"]
    assert held["split"] == "test" and 0 <= held["coverage"] <= 1
    curve = reject_curve(record)
    assert curve[-1]["coverage"] == 1.0
    assert curve[-1]["accuracy"] == pytest.approx(np.mean(validation["correct"]))


def test_a_stricter_target_answers_fewer_images(calibrated_run):
    loose = set_target_accuracy(calibrated_run, 0.8)["reject"]
    strict = set_target_accuracy(calibrated_run, 1.0)["reject"]

    assert strict["threshold"] >= loose["threshold"]
    assert strict["coverage"] <= loose["coverage"]


def test_recalibrating_keeps_the_users_target(calibrated_run, master_model):
    set_target_accuracy(calibrated_run, 0.9)

    record = calibrate_run(calibrated_run, master_model, calibrated_run.path.parent.parent / "data" / "digits3", 32)

    assert record["reject"]["target_accuracy"] == 0.9


def test_a_run_never_calibrated_cannot_take_a_target(calibrated_run):
    (calibrated_run.path / "eval" / "calibration.json").unlink()

    with pytest.raises(ValueError, match="has no calibration yet"):
        set_target_accuracy(calibrated_run, 0.9)
    assert stored_confidence(calibrated_run).temperature == 1.0
    assert confidence_summary(None) == {"calibration": None, "reject": None}


def test_without_a_validation_split_nothing_is_fitted_and_nothing_refused():
    """Pure numpy: a run with no validation images keeps T = 1 and no threshold; the test split is still measured."""
    from tlcore.evaluation.confidence import calibration_record

    held_out_logits = np.array([[2.0], [-1.0], [0.5], [3.0]])  # a binary head's one logit
    record = calibration_record(np.zeros((0, 1)), np.zeros(0), held_out_logits, np.array([1, 0, 0, 1]))

    assert record["temperature"] == 1.0 and "no validation images" in record["note"]
    assert record["head"] == "sigmoid"
    assert record["reject"]["threshold"] is None and record["reject"]["held_out"]["coverage"] == 1.0
    assert record["held_out"]["ece_before"] == record["held_out"]["ece_after"]
    assert record["held_out"]["images"] == 4 and record["validation"]["images"] == 0
    json.dumps(record)  # stored as JSON: plain Python numbers only


def test_a_training_job_calibrates_its_run_when_it_ends(trained_run):
    """The shared run was trained by a real job (tlcore.worker.run_job): evaluation at its end stored the record."""
    record = read_calibration(trained_run)

    assert record is not None and record["validation"]["images"] == len(trained_run.split().val)
    assert record["held_out"]["split"] == "test" and record["held_out"]["images"] == len(trained_run.split().test)
    assert (trained_run.path / "exports" / "model_card.json").exists()
