"""Predict page with a real (tiny, untrained) model: uploads through AppTest's file_uploader, top-k per image;
Grad-CAM; external models (corrupt and mismatched ones refused with a message); batch prediction and export as
tasks, and the stored export report with its parity rows."""

import io
import json
import shutil
import zipfile

import numpy as np
import pytest
from page_helpers import by_label, make_run, texts
from PIL import Image

pytestmark = pytest.mark.filterwarnings(  # Keras 3.15 under NumPy 2, on every model call; not ours to fix
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

IMAGE_SIZE = 32
PREDICT_TIMEOUT_S = 120  # the first run loads the model and traces the compiled call
# An untrained head gives near-equal probabilities whose argmax flips with rounding. These heads answer the same for
# every image (zero kernel, set bias), so the page must show a known class and percentage.
CLASSES = ["ant", "bee", "cat"]
HEAD_BIAS = [0.0, 3.0, 0.0]
EXPECTED_TOP = "bee"
EXPECTED_PERCENT = f"{np.exp(3) / (np.exp(3) + 2):.1%}"  # softmax(HEAD_BIAS)[1] = 90.9%
BINARY_CLASSES = ["cats", "dogs"]  # two classes: one sigmoid unit, p = P(dogs)
BINARY_BIAS = [-2.0]  # sigmoid(-2) = 11.9% dogs, so 88.1% cats


def _save_tiny_model(folder, classes: list[str], bias: list[float]):
    """A MobileNetV2@32 px model with random weights and the app's own head, saved as a `.keras` file."""
    from tlcore.config.training import TrainConfig
    from tlcore.modeling.model import build_model

    model = build_model(TrainConfig(dataset="x", backbone="MobileNetV2", image_size=IMAGE_SIZE, weights="random",
                                    fine_tune_at=None), len(classes))
    head = model.get_layer("head")
    kernel, _ = head.get_weights()
    head.set_weights([np.zeros_like(kernel), np.array(bias, dtype="float32")])
    path = folder / f"model-{len(classes)}.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """{class count: saved model}, built once per module (TensorFlow imports once)."""
    folder = tmp_path_factory.mktemp("tiny-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(folder / "keras"))  # Keras reads it at import: keep ~/.keras out of it
        patch.setenv("TLSTUDIO_HOME", str(folder / "home"))
        return {3: _save_tiny_model(folder, CLASSES, HEAD_BIAS), 2: _save_tiny_model(folder, BINARY_CLASSES, BINARY_BIAS)}


def _model_run(tiny_models, classes):
    from tlcore.config.training import TrainConfig
    from tlcore.inference.predictor import cached_predictor

    cached_predictor.cache_clear()  # run ids repeat across tests' runs dirs; never reuse another test's predictor
    run = make_run(TrainConfig(dataset="sample-digits", backbone="MobileNetV2", image_size=IMAGE_SIZE,
                               weights="random"), state="finished", class_names=classes)
    shutil.copy(tiny_models[len(classes)], run.model_path)
    return run


@pytest.fixture
def model_run(studio, tiny_models):
    return _model_run(tiny_models, CLASSES)


def _png(colour, size=(40, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(colour, size=(24, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def _top_k_bars(at) -> list[list[str]]:
    return [json.loads(chart.proto.spec)["data"][0]["y"] for chart in at.get("plotly_chart")]


def test_without_a_model_shows_the_info(open_page):
    make_run(state="failed", error="crashed before saving")

    at = open_page("pages/predict.py")

    assert any(text.startswith("No trained model yet") for text in texts(at.info))
    assert not at.file_uploader


def test_no_upload_asks_for_images(open_page, model_run):
    at = open_page("pages/predict.py")

    assert by_label(at.selectbox, "Model from run").value == model_run.id
    uploader = by_label(at.file_uploader, "Images")
    assert uploader.accept_multiple_files
    top_k = by_label(at.slider, "Top-k")
    assert (top_k.min, top_k.max, top_k.value) == (1, 3, 3)
    assert "Upload one or more images to classify them." in texts(at.caption)
    assert not at.error


def test_uploads_show_the_top_class_and_refuse_a_non_image(open_page, model_run):
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.file_uploader, "Images").set_value([
        ("red.png", _png((220, 30, 30)), "image/png"),
        ("notes.png", b"these are notes, not pixels", "image/png"),
        ("blue.jpg", _jpeg((20, 40, 200)), "image/jpeg"),
    ])

    at.run()

    assert not at.exception
    assert EXPECTED_PERCENT == "90.9%"
    errors = texts(at.error)
    assert len(errors) == 1
    assert errors[0].startswith("notes.png is not a usable image: not an image")
    lines = [text for text in texts(at.markdown) if text.startswith("**")]
    assert lines == [f"**red.png: {EXPECTED_TOP}** ({EXPECTED_PERCENT})",
                     f"**blue.jpg: {EXPECTED_TOP}** ({EXPECTED_PERCENT})"]
    assert [image.captions for image in at.image] == [["red.png"], ["blue.jpg"]]
    charts = _top_k_bars(at)
    assert len(charts) == 2 and all(len(bars) == 3 for bars in charts)  # top-3 of 3 classes by default
    assert charts[0][-1] == EXPECTED_TOP  # plotted bottom-up: the most likely class is the top bar

    by_label(at.slider, "Top-k").set_value(1).run()

    assert _top_k_bars(at) == [[EXPECTED_TOP], [EXPECTED_TOP]]


def test_two_uploads_with_the_same_name_each_get_their_own_result(open_page, model_run):
    # Two files called photo.png (say, from two folders): one readable, one not.
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.file_uploader, "Images").set_value([
        ("photo.png", b"not an image", "image/png"),
        ("photo.png", _png((30, 200, 30)), "image/png"),
    ])

    at.run()

    assert len(at.error) == 1 and "photo.png is not a usable image" in at.error[0].value
    assert [text for text in texts(at.markdown) if text.startswith("**")] == [
        f"**photo.png: {EXPECTED_TOP}** ({EXPECTED_PERCENT})"]


def test_two_class_model_reads_its_single_sigmoid_unit(open_page, studio, tiny_models):
    _model_run(tiny_models, BINARY_CLASSES)
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    top_k = by_label(at.slider, "Top-k")
    assert (top_k.max, top_k.value) == (2, 2)
    by_label(at.file_uploader, "Images").set_value(("pet.png", _png((120, 90, 60)), "image/png"))

    at.run()

    assert not at.exception and not at.error
    assert [text for text in texts(at.markdown) if text.startswith("**")] == ["**pet.png: cats** (88.1%)"]
    assert _top_k_bars(at) == [["dogs", "cats"]]


# --- Grad-CAM, external models, batch prediction, export -----------------------------------------------------
def _task_params(studio, kind):
    tasks = [json.loads(path.read_text()) for path in (studio.home / "tasks").glob("*/task.json")]
    return [task["params"] for task in tasks if task["kind"] == kind]


def test_grad_cam_for_the_predicted_and_a_chosen_class(open_page, model_run):
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.file_uploader, "Images").set_value(("red.png", _png((220, 30, 30)), "image/png"))
    by_label(at.toggle, "Grad-CAM").set_value(True)

    at.run()

    assert not at.exception and not at.error
    assert by_label(at.selectbox, "Grad-CAM class").value == "bee"  # the predicted class first
    assert at.image[1].captions == ["Grad-CAM: bee (90.9%) · layer base/block_3_expand_relu (8×8 map)"]

    by_label(at.selectbox, "Grad-CAM class").set_value("ant").run()

    assert at.image[1].captions[0].startswith("Grad-CAM: ant (4.5%)")


def test_a_corrupt_external_upload_gets_a_clear_message(open_page):
    at = open_page("pages/predict.py")
    by_label(at.radio, "Model").set_value("An external .keras file").run()
    assert "Choose a model file and give its class names." in texts(at.info)

    by_label(at.file_uploader, "Model file (.keras)").set_value(("mine.keras", b"PK\x03\x04 half a file",
                                                                 "application/octet-stream"))
    by_label(at.text_input, "…or class names, comma-separated").set_value("cat, dog").run()

    assert texts(at.error) == ["`mine.keras` is not a Keras model file: a `.keras` file (Keras 3 format) is a zip "
                               "archive holding the model's config and weights, and this one is not (corrupt, "
                               "truncated, or another format such as .h5)."]
    assert not any(uploader.label == "Images" for uploader in at.file_uploader)


def test_an_external_model_with_the_wrong_class_count_is_refused_then_predicts(open_page, tiny_models):
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.radio, "Model").set_value("An external .keras file").run()
    by_label(at.file_uploader, "Model file (.keras)").set_value(("three.keras", tiny_models[3].read_bytes(),
                                                                 "application/octet-stream"))
    by_label(at.file_uploader, "labels.txt (one class a line, in output order)").set_value(
        ("labels.txt", b"cat\ndog\n", "text/plain"))
    at.run()

    assert texts(at.error) == ["three.keras has 3 output units but 2 class names were given (cat, dog). Give one "
                               "name per output, in output order (3 names)."]

    by_label(at.file_uploader, "labels.txt (one class a line, in output order)").set_value(
        ("labels.txt", "\n".join(CLASSES).encode(), "text/plain"))
    at.run()
    by_label(at.file_uploader, "Images").set_value(("red.png", _png((220, 30, 30)), "image/png")).run()

    assert not at.error
    assert [text for text in texts(at.markdown) if text.startswith("**red")] == ["**red.png: bee** (90.9%)"]
    assert not any(e.label.startswith("Export") for e in at.expander)  # exports are of runs only


def test_batch_prediction_of_a_folder_starts_a_task_and_an_unsafe_zip_is_refused(open_page, model_run, studio):
    at = open_page("pages/predict.py")
    at.button(key="batch_go").click().run()

    assert _task_params(studio, "batch_predict") == [{"model": {"run": model_run.id}, "top_k": 3,
                                                      "folder": "sample-digits"}]
    assert any("waits in the queue" in text for text in texts(at.info))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escape.png", _png((1, 2, 3)))
    by_label(at.radio, "Images from").set_value("Zip upload").run()
    by_label(at.file_uploader, "Zip of images").set_value(("photos.zip", buffer.getvalue(), "application/zip")).run()

    assert texts(at.error) == ["photos.zip was refused: it holds entries with absolute paths or '..' "
                               "(../escape.png). Nothing was read."]
    assert at.button(key="batch_go").disabled


def test_export_starts_a_task_and_the_stored_report_shows_parity(open_page, model_run, studio):
    from tlcore.storage.atomic import write_json_atomic

    exports = model_run.path / "exports"
    (exports / "tflite-int8").mkdir(parents=True)
    (exports / "tflite-int8" / "model.tflite").write_bytes(b"x" * 1000)
    (exports / "labels.txt").write_text("ant\nbee\ncat\n")
    row = dict(format="tflite-int8", label="TFLite int8 (calibrated)", path="tflite-int8/model.tflite",
               download="tflite-int8/model.tflite", size_bytes=1_500_000, test_accuracy=0.9, latency_ms=1.25,
               top1_agreement=0.95, max_probability_difference=0.02, parity_required=None, parity_passed=None)
    write_json_atomic(exports / "report.json", {"formats": {"tflite-int8": row, "keras": {
        **row, "format": "keras", "label": "Keras (.keras)", "top1_agreement": 1.0, "parity_required": 0.99,
        "parity_passed": True, "download": "keras/model.keras"}}, "checked_on": "test", "images": 18,
        "app_model_latency_ms": 2.5})

    at = open_page("pages/predict.py")

    table = at.table[-1].value
    assert table.index.tolist() == ["TFLite int8 (calibrated)", "Keras (.keras)"]
    assert table["parity"].tolist() == ["reported (no threshold)", "passed (≥ 99 % top-1 agreement)"]
    assert table["top-1 agreement"].tolist() == ["95.0%", "100.0%"]
    assert table.loc["Keras (.keras)", "size"] == "1.50 MB"
    assert [button.label for button in at.get("download_button")] == ["tflite-int8", "labels.txt",
                                                                       "Model card (.md)", "Model card (.json)"]

    by_label(at.multiselect, "Formats").set_value(["keras", "tflite-f16"])
    at.button(key="export_go").click().run()

    assert _task_params(studio, "export") == [{"run": model_run.id, "formats": ["keras", "tflite-f16"]}]


def test_images_picked_from_the_dataset_are_predicted(open_page, model_run):
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.toggle, "Pick from the dataset").set_value(True).run()
    by_label(at.selectbox, "Class folder of sample-digits").set_value("7").run()

    picked = by_label(at.multiselect, "Dataset images")
    assert picked.value == ["7/digit_0007.png"]  # the class's first image, preselected

    assert not at.exception and not at.error
    assert [text for text in texts(at.markdown) if text.startswith("**")] == [
        f"**7/digit_0007.png: {EXPECTED_TOP}** ({EXPECTED_PERCENT})"]
