"""Exports of a calibrated run give the calibrated probabilities the app shows: the serving model divides the logits
by the run's temperature before the softmax or sigmoid, every format keeps it, and each bundle carries labels.txt,
metadata.json (temperature, "not sure" threshold) and the model card."""

import json
import zipfile

import numpy as np
import pytest

from tlcore.inference.calibrated import scaled_probabilities

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def _tiny(units: int, activation: str):
    """An untrained image model with TL Studio's head shape: pooled pixels → Dense(units, activation)."""
    import keras

    inputs = keras.Input((8, 8, 3), name="image")
    x = keras.layers.Rescaling(1 / 255, name="preprocess")(inputs)
    x = keras.layers.Conv2D(4, 3, name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    head = keras.layers.Dense(units, activation=activation, name="head",
                              kernel_initializer=keras.initializers.RandomNormal(stddev=3.0, seed=0))
    return keras.Model(inputs, head(x))


@pytest.mark.parametrize("units, activation", [(3, "softmax"), (1, "sigmoid")], ids=["softmax", "sigmoid"])
def test_the_serving_model_applies_the_temperature_before_the_activation(units, activation, tmp_path):
    from tlcore.inference.predictor import logits_call, probabilities_2d
    from tlcore.inference.serving import serving_model
    from tlcore.layers.loading import load_model

    model = _tiny(units, activation)
    images = np.random.default_rng(0).uniform(0, 255, (16, 8, 8, 3)).astype("float32")
    logits = logits_call(model)(images)

    serving = serving_model(model, temperature=2.5)

    calibrated = probabilities_2d(np.asarray(serving(images)))
    assert calibrated == pytest.approx(scaled_probabilities(logits, 2.5), abs=1e-6)
    raw = probabilities_2d(np.asarray(model(images)))
    assert np.abs(calibrated - raw).max() > 0.01  # the temperature is really in the graph
    assert calibrated.argmax(axis=1).tolist() == raw.argmax(axis=1).tolist()
    assert [layer.name for layer in serving.layers[-3:]] == ["head", "temperature", "probabilities"]
    serving.save(tmp_path / "served.keras")
    reloaded = load_model(tmp_path / "served.keras")  # standard layers only: loads in safe mode anywhere
    assert probabilities_2d(np.asarray(reloaded(images))) == pytest.approx(calibrated, abs=1e-6)
    assert serving_model(model).layers[-1] is model.layers[-1]  # T = 1: the head itself, nothing added


def test_a_model_without_a_classifier_head_cannot_take_a_temperature():
    from tlcore.inference.serving import serving_model

    with pytest.raises(ValueError, match="no softmax or single-sigmoid classifier"):
        serving_model(_tiny(3, "sigmoid"), temperature=2.0)  # three independent sigmoids


@pytest.fixture(scope="module")
def exported(calibrated_run_master, tmp_path_factory):
    """The calibrated run exported as .keras, SavedModel and TFLite float32 (once for the module, ~1 min)."""
    import shutil

    from tlcore.inference.export import export_run

    base = tmp_path_factory.mktemp("calibrated-export")
    with pytest.MonkeyPatch.context() as patch:
        for variable, folder in (("TLSTUDIO_HOME", "home"), ("TLSTUDIO_DATA_ROOT", "data"),
                                 ("TLSTUDIO_RUNS_DIR", "runs"), ("KERAS_HOME", "keras")):
            (base / folder).mkdir()
            patch.setenv(variable, str(base / folder))
        shutil.copytree(calibrated_run_master.parent.parent / "data" / "digits3", base / "data" / "digits3")
        run_folder = shutil.copytree(calibrated_run_master, base / "runs" / calibrated_run_master.name)
        report = export_run(run_folder.name, ["keras", "savedmodel", "tflite-f32"])
    return run_folder, report


def test_every_format_reproduces_the_calibrated_probabilities(exported):
    from tlcore.datasets.pipeline import load_arrays
    from tlcore.inference.export import FORMATS
    from tlcore.layers.loading import load_model

    run_folder, report = exported
    record = json.loads((run_folder / "eval" / "calibration.json").read_text())
    split = json.loads((run_folder / "split.json").read_text())
    images, labels = load_arrays(run_folder.parent.parent / "data" / "digits3", split["test"], 32)
    raw = load_model(run_folder / "model.keras").predict(images, verbose=0)
    assert (raw.argmax(axis=1) == labels).mean() >= 0.75 and raw.std(axis=0).min() > 0.1  # it discriminates
    expected = scaled_probabilities(np.log(raw), record["temperature"])  # the app's calibrated probabilities
    assert record["temperature"] != pytest.approx(1.0, abs=0.05)

    assert report["temperature"] == record["temperature"]
    assert report["threshold"] == record["reject"]["threshold"]
    for name in ("keras", "savedmodel", "tflite-f32"):
        row = report["formats"][name]
        assert "error" not in row, row.get("error")
        assert row["parity_passed"] is True and row["top1_agreement"] == 1.0
        assert row["max_probability_difference"] < 1e-4, name
        outputs = FORMATS[name].load(run_folder / "exports" / row["path"])(images.astype("float32"))
        assert outputs == pytest.approx(expected, abs=1e-4), name  # calibrated, read back from the file
        assert np.abs(outputs - raw).max() > 0.01, name  # not the raw softmax


def test_each_bundle_carries_labels_metadata_and_the_model_card(exported):
    run_folder, report = exported
    exports = run_folder / "exports"
    record = json.loads((run_folder / "eval" / "calibration.json").read_text())

    for name in ("keras", "savedmodel", "tflite-f32"):
        folder = exports / name
        assert (folder / "labels.txt").read_text() == "0\n1\n2\n"
        metadata = json.loads((folder / "metadata.json").read_text())
        assert metadata["temperature"] == record["temperature"] and metadata["temperature_applied_in_model"]
        assert metadata["threshold"] == record["reject"]["threshold"] and metadata["target_accuracy"] == 0.95
        assert metadata["input"]["shape"] == [None, 32, 32, 3]
        assert (folder / "model_card.md").read_text() == (exports / "model_card.md").read_text()
    with zipfile.ZipFile(exports / report["formats"]["savedmodel"]["download"]) as bundle:
        names = set(bundle.namelist())
    assert {"labels.txt", "metadata.json", "model_card.md", "model_card.json"} <= names
    assert any(name.startswith("savedmodel/") for name in names)
    card = json.loads((exports / "model_card.json").read_text())
    assert [(row["format"], row["parity_passed"]) for row in card["exports"]] == [
        ("keras", True), ("savedmodel", True), ("tflite-f32", True)]
    assert "| TFLite float32 | passed | 100.0% |" in (exports / "model_card.md").read_text()
