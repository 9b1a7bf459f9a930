"""tlcore.inference.sources: a model trained elsewhere is loaded in safe mode, checked against its class names, or refused
with a message that says why; it predicts and evaluates like a run's model."""

import shutil
import zipfile

import pytest

from tlcore.evaluation.external import evaluate_external
from tlcore.inference.sources import load_external, model_path_under_data_root, parse_class_names, store_upload
from tlcore.layers.loading import BadModelFile

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture
def external_model(trained_run, studio_dirs):
    """The trained run's model.keras copied under the data root, as a user would bring one (classes 0, 1, 2)."""
    path = studio_dirs.data_root / "models" / "digits.keras"
    path.parent.mkdir()
    shutil.copy(trained_run.model_path, path)
    return path


def test_class_names_from_labels_txt_or_a_typed_list():
    assert parse_class_names("cat\ndog\n\nbird\n") == ["cat", "dog", "bird"]
    assert parse_class_names(" cat, dog ,bird") == ["cat", "dog", "bird"]
    with pytest.raises(BadModelFile, match="at least two class names"):
        parse_class_names("cat")
    with pytest.raises(BadModelFile, match="unique; repeated: cat"):
        parse_class_names("cat, dog, cat")


def test_a_corrupt_upload_gets_a_clear_message(studio_dirs):
    path = store_upload(b"PK\x03\x04 this was cut off in the middle of the upload")

    with pytest.raises(BadModelFile) as refused:
        load_external(path, ["a", "b"], name="model.keras")

    assert str(refused.value) == ("`model.keras` is not a Keras model file: a `.keras` file (Keras 3 format) is a zip "
                                  "archive holding the model's config and weights, and this one is not (corrupt, "
                                  "truncated, or another format such as .h5).")
    with pytest.raises(BadModelFile, match="empty"):
        store_upload(b"")


def test_a_zip_that_is_not_a_keras_model_is_refused(tmp_path):
    path = tmp_path / "holiday.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.txt", "not a model")

    with pytest.raises(BadModelFile, match=r"^`holiday.keras` cannot be loaded as a Keras model \("):
        load_external(path, ["a", "b"])


def test_a_lambda_layer_is_refused_by_safe_mode(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(lambda images: images * 2.0)(inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")

    with pytest.raises(BadModelFile, match="refused by Keras safe mode: it contains Python code"):
        load_external(tmp_path / "lambda.keras", ["a", "b"])


def test_class_count_must_match_the_output_units(external_model):
    with pytest.raises(BadModelFile) as refused:
        load_external(external_model, ["cat", "dog"])

    assert str(refused.value) == ("digits.keras has 3 output units but 2 class names were given (cat, dog). Give "
                                  "one name per output, in output order (3 names).")


def test_a_matching_model_predicts_with_its_names(external_model):
    predictor = load_external(model_path_under_data_root("models/digits.keras"), ["zero", "one", "two"])
    image = external_model.parent.parent / "tiny3" / "1"
    first = sorted(image.glob("*.png"))[0]

    prediction = predictor.predict_files([("x.png", first)], top_k=3)[0]

    assert predictor.image_size == 32
    assert sorted(name for name, _ in prediction.top) == ["one", "two", "zero"]
    assert prediction.top[0][0] == "one"  # a "1" of the shared run's dataset, under the names given


def test_paths_outside_the_data_root_or_not_keras_are_refused(external_model, studio_dirs):
    from tlcore.storage.paths import PathOutsideRoot

    with pytest.raises(PathOutsideRoot):
        model_path_under_data_root("../outside.keras")
    with pytest.raises(BadModelFile, match="is not a .keras file"):
        model_path_under_data_root("models/digits.h5")
    with pytest.raises(BadModelFile, match="No file 'models/other.keras' under the data root"):
        model_path_under_data_root("models/other.keras")


def test_evaluating_on_a_folder_equals_the_runs_own_predictions(external_model, trained_run):
    progress = []

    report = evaluate_external(external_model, ["0", "1", "2"], "tiny3", lambda f, m: progress.append(f))

    assert report["images"] == 120 and report["split"] == "all of tiny3"
    assert report["accuracy"] >= 0.85, report["accuracy"]  # the shared run's floor on its test images; chance 1/3
    assert sorted(set(report["y_pred"])) == [0, 1, 2]  # not one answer for every image
    assert sum(map(sum, report["confusion_matrix"])) == 120
    assert progress[-1] == 1.0
    test_files = trained_run.evaluation()["files"]
    predicted = dict(zip(report["files"], report["y_pred"]))
    assert [predicted[f] for f in test_files] == trained_run.evaluation()["y_pred"]


def test_evaluating_needs_folder_names_among_the_classes(external_model):
    with pytest.raises(BadModelFile, match="class folders of tiny3 are not among the model's classes: 0, 1, 2"):
        evaluate_external(external_model, ["cat", "dog", "bird"], "tiny3")
