"""tlcore.inference.predictor: top-k predictions with a trained run's model; unreadable uploads are reported, not fatal."""

import numpy as np
import pytest

from tlcore.runs.folders import Run, create_run


@pytest.fixture(scope="module")
def master_run(trained_run_master):
    """The shared trained run, read only (a model loads once per module; loading costs ~2 s)."""
    return Run(trained_run_master)


@pytest.fixture(scope="module")
def predictor(master_run):
    from tlcore.inference.predictor import Predictor

    return Predictor(master_run.model_path, master_run.class_names(), master_run.config().image_size)


@pytest.fixture(scope="module")
def test_images(master_run):
    """The run's 18 test images as (relative paths, uint8 array)."""
    from tlcore.datasets.pipeline import load_arrays

    items = master_run.split().test
    return items, load_arrays(master_run.path.parent.parent / "data" / "tiny3", items, 32)[0]


@pytest.fixture(scope="module")
def digit_files(master_run):
    """One test image per class of the trained run, as (name, path)."""
    root = master_run.path.parent.parent / "data" / "tiny3"
    return [(path.split("/")[-1], root / path) for path, _ in master_run.split().test[::6]]


def test_predictor_for_run_knows_the_runs_classes_and_size(trained_run):
    from tlcore.inference.predictor import Predictor

    predictor = Predictor.for_run(trained_run.id)

    assert predictor.class_names == ["0", "1", "2"]
    assert predictor.image_size == 32


def test_top_k_is_sorted_most_likely_first(predictor, digit_files):
    predictions = predictor.predict_files(digit_files, top_k=2)

    assert [p.name for p in predictions] == [name for name, _ in digit_files]
    for prediction in predictions:
        assert prediction.error is None
        assert len(prediction.top) == 2
        probabilities = [p for _, p in prediction.top]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 <= sum(probabilities) <= 1 + 1e-6
        assert {name for name, _ in prediction.top} <= {"0", "1", "2"}


def test_top_k_larger_than_the_classes_lists_every_class_once(predictor, digit_files):
    prediction = predictor.predict_files(digit_files[:1], top_k=10)[0]

    assert sorted(name for name, _ in prediction.top) == ["0", "1", "2"]
    assert sum(p for _, p in prediction.top) == pytest.approx(1.0, abs=1e-5)  # softmax over all three


def test_a_non_image_upload_gets_an_error_and_the_others_still_get_predictions(predictor, digit_files):
    name, path = digit_files[0]
    uploads = [(name, path.read_bytes()), ("notes.txt", b"shopping: milk, eggs"), ("empty.png", b""),
               ("also.png", digit_files[1][1])]

    predictions = predictor.predict_files(uploads, top_k=3)

    assert [p.name for p in predictions] == [name, "notes.txt", "empty.png", "also.png"]
    assert predictions[1].top == [] and predictions[2].top == []
    assert predictions[1].error == "notes.txt is not a usable image: not an image (Pillow cannot identify the format)"
    assert predictions[2].error == "empty.png is not a usable image: empty file (0 bytes)"
    assert predictions[0].error is None and len(predictions[0].top) == 3
    assert predictions[3].error is None and len(predictions[3].top) == 3


def test_bytes_and_path_of_the_same_image_predict_the_same(predictor, digit_files):
    name, path = digit_files[0]

    from_path, from_bytes = predictor.predict_files([(name, path), (name + " (upload)", path.read_bytes())])

    assert from_path.top == from_bytes.top


def test_predictor_output_equals_model_predict(predictor, test_images):
    _, images = test_images

    probabilities = predictor.probabilities(images)

    assert probabilities.shape == (18, 3)
    assert np.allclose(probabilities, predictor.model.predict(images, verbose=0), atol=1e-5)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_predictions_agree_with_the_stored_evaluation(predictor, test_images, master_run):
    items, images = test_images

    assert master_run.evaluation()["files"] == [path for path, _ in items]
    assert predictor.probabilities(images).argmax(axis=1).tolist() == master_run.evaluation()["y_pred"]


def test_run_without_a_model_cannot_predict(studio_dirs, make_config):
    from tlcore.inference.predictor import Predictor

    run = create_run(make_config("tiny3"))

    with pytest.raises(ValueError, match=rf"^Run {run.id} has no saved model yet \(state: queued\)\.$"):
        Predictor.for_run(run.id)
