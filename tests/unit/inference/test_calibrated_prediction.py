"""tlcore.inference.calibrated and the Predictor of a calibrated run: probabilities are softmax(logits / T) with the
run's stored temperature, answers below its threshold are "not sure", and a new threshold reaches a loaded model."""

import numpy as np
import pytest

from tlcore.inference.calibrated import NOT_SURE, Confidence, class_logits, scaled_probabilities


def test_scaling_keeps_the_top_class_and_softens_or_sharpens():
    logits = np.array([[2.0, 1.0, -1.0], [0.0, 3.0, 0.5]])

    plain, soft, sharp = (scaled_probabilities(logits, t) for t in (1.0, 2.0, 0.5))

    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert plain == pytest.approx(expected)
    for probabilities in (plain, soft, sharp):
        assert probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])
        assert probabilities.argmax(axis=1).tolist() == [0, 1]
    assert (soft.max(axis=1) < plain.max(axis=1)).all() and (sharp.max(axis=1) > plain.max(axis=1)).all()


def test_a_sigmoid_logit_is_two_class_logits():
    z = np.array([[-2.0], [0.0], [3.0]])

    assert class_logits(z).tolist() == [[0.0, -2.0], [0.0, 0.0], [0.0, 3.0]]
    assert scaled_probabilities(z, 2.0)[:, 1] == pytest.approx(1 / (1 + np.exp(-z[:, 0] / 2.0)))
    assert scaled_probabilities(np.array([[1e4]]))[0].tolist() == [0.0, 1.0]  # no overflow


def test_without_a_threshold_every_answer_is_given():
    assert Confidence().is_sure(0.01)
    assert Confidence(threshold=0.7).is_sure(0.7) and not Confidence(threshold=0.7).is_sure(0.69)


@pytest.fixture
def predictor(calibrated_run):
    from tlcore.inference.predictor import Predictor

    return Predictor.for_run(calibrated_run.id)


@pytest.fixture
def test_images(calibrated_run):
    from tlcore.datasets.pipeline import load_arrays

    root = calibrated_run.path.parent.parent / "data" / "digits3"
    return load_arrays(root, calibrated_run.split().test, 32)


def test_the_model_discriminates(predictor, test_images):
    images, labels = test_images

    probabilities = predictor.probabilities(images)

    assert (probabilities.argmax(axis=1) == labels).mean() >= 0.75
    assert probabilities.std(axis=0).min() > 0.1


def test_probabilities_are_the_models_logits_divided_by_the_stored_temperature(predictor, test_images, calibrated_run):
    from tlcore.inference.calibrated import read_calibration

    images, _ = test_images
    temperature = read_calibration(calibrated_run)["temperature"]
    raw = predictor.model.predict(images, verbose=0)

    logits = predictor.logits(images)
    probabilities = predictor.probabilities(images)

    assert predictor.confidence.temperature == temperature != 1.0
    assert scaled_probabilities(logits, 1.0) == pytest.approx(raw, abs=1e-5)  # the logits are the head's
    assert probabilities == pytest.approx(scaled_probabilities(np.log(raw), temperature), abs=1e-4)
    assert probabilities.argmax(axis=1).tolist() == raw.argmax(axis=1).tolist()
    assert np.abs(probabilities - raw).max() > 0.01  # the temperature changes what is shown
    stored = read_calibration(calibrated_run)["held_out"]["confidence"]
    assert probabilities.max(axis=1) == pytest.approx(stored, abs=1e-5)  # what evaluation measured


def test_answers_below_the_threshold_are_not_sure_and_a_new_threshold_is_seen_at_once(predictor, calibrated_run):
    from tlcore.evaluation.confidence import set_target_accuracy

    root = calibrated_run.path.parent.parent / "data" / "digits3"
    files = [(relative, root / relative) for relative, _ in calibrated_run.split().test]

    set_target_accuracy(calibrated_run, 0.8)
    loose = predictor.predict_files(files, top_k=3)
    set_target_accuracy(calibrated_run, 1.0)  # the same loaded predictor
    strict = predictor.predict_files(files, top_k=3)

    threshold = predictor.confidence.threshold
    assert predictor.confidence.target_accuracy == 1.0 and threshold > 0
    for prediction in strict:
        assert prediction.not_sure == (prediction.top[0][1] < threshold)
        assert prediction.answer == (NOT_SURE if prediction.not_sure else prediction.top[0][0])
    assert sum(p.not_sure for p in strict) > sum(p.not_sure for p in loose)
    assert [p.top for p in strict] == [p.top for p in loose]  # only the answer changes


def test_a_model_from_elsewhere_keeps_its_own_outputs(studio_dirs):
    import keras

    from tlcore.inference.predictor import Predictor, logits_call

    inputs = keras.Input((8, 8, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    multi_label = keras.Model(inputs, keras.layers.Dense(3, activation="sigmoid")(pooled))  # independent labels
    images = np.random.default_rng(0).integers(0, 255, (4, 8, 8, 3)).astype("uint8")

    predictor = Predictor(studio_dirs.home / "unused.keras", ["a", "b", "c"], 8, model=multi_label)

    assert logits_call(multi_label) is None
    assert predictor.probabilities(images) == pytest.approx(multi_label.predict(images, verbose=0), abs=1e-6)
    assert predictor.confidence == Confidence()
