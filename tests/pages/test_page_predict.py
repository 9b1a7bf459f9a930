"""Predict page with a model that discriminates (the session's calibrated run of tests/conftest.py: digits 0, 1 and
2 at 32 px): uploads through AppTest's file_uploader, each shown with its own class and calibrated percentage; a
two-class model's single sigmoid unit; Grad-CAM; external models (corrupt and mismatched ones refused with a
message); batch prediction and export as tasks, and the stored export report with its parity rows."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from page_helpers import by_label, make_run, texts
from PIL import Image

from pages.shared.user_text import escape_markdown

pytestmark = pytest.mark.filterwarnings(  # Keras 3.15 under NumPy 2, on every model call; not ours to fix
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

PREDICT_TIMEOUT_S = 120  # the first run loads the model and traces the compiled call
CLASSES = ["0", "1", "2"]  # the calibrated run's classes (tests/conftest.py CALIBRATED_CLASSES)
NAMES = ["zero", "one", "two"]  # the same outputs under other names, for an external model


@pytest.fixture
def model_run(studio, calibrated_run):
    from tlcore.inference.predictor import cached_predictor

    cached_predictor.cache_clear()  # run ids repeat across tests' runs dirs; never reuse another test's predictor
    return calibrated_run


def _sure_digits(run) -> dict[str, Path]:
    """Per class, the test image the run answers right with the highest calibrated confidence (from its stored
    calibration), so the page must show that class, never "not sure"."""
    record = json.loads((run.path / "eval" / "calibration.json").read_text())
    split = json.loads((run.path / "split.json").read_text())
    held_out = record["held_out"]
    best: dict[str, tuple[float, object]] = {}
    for index, (relative, label) in enumerate(split["test"]):
        name = split["class_names"][label]
        confidence = held_out["confidence"][index]
        if held_out["correct"][index] and confidence > best.get(name, (-1.0, None))[0]:
            best[name] = (confidence, run.path.parent.parent / "data" / run.config().dataset / relative)
    assert sorted(best) == CLASSES, best
    return {name: path for name, (_, path) in best.items()}


def _shown(run, path) -> tuple[str, float]:
    """What the app's predictor answers for this image (class, calibrated probability): the page must show it."""
    from tlcore.inference.predictor import cached_predictor

    prediction = cached_predictor(run.id, run.model_path.stat().st_mtime).predict_files([("x", path)])[0]
    assert not prediction.not_sure, prediction
    return prediction.top[0]


def _answer_lines(at) -> list[str]:
    return [text for text in texts(at.markdown) if text.startswith("**")]


def _png(colour, size=(40, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
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


def test_uploads_show_each_images_own_class_and_refuse_a_non_image(open_page, model_run):
    digits = _sure_digits(model_run)
    expected = {name: _shown(model_run, path) for name, path in digits.items()}
    assert [expected[name][0] for name in CLASSES] == CLASSES  # the model tells the three digits apart
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.file_uploader, "Images").set_value([
        ("two.png", digits["2"].read_bytes(), "image/png"),
        ("notes.png", b"these are notes, not pixels", "image/png"),
        ("zero.png", digits["0"].read_bytes(), "image/png"),
        ("one.png", digits["1"].read_bytes(), "image/png"),
    ])

    at.run()

    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1
    assert errors[0].startswith("notes.png is not a usable image: not an image")
    assert _answer_lines(at) == [f"**{file}: {name}** ({expected[name][1]:.1%})"
                                 for file, name in (("two.png", "2"), ("zero.png", "0"), ("one.png", "1"))]
    assert [image.captions for image in at.image] == [["two.png"], ["zero.png"], ["one.png"]]
    charts = _top_k_bars(at)
    assert len(charts) == 3 and all(sorted(bars) == CLASSES for bars in charts)  # top-3 of 3 classes by default
    assert [bars[-1] for bars in charts] == ["2", "0", "1"]  # plotted bottom-up: the most likely class on top

    by_label(at.slider, "Top-k").set_value(1).run()

    assert _top_k_bars(at) == [["2"], ["0"], ["1"]]


def test_two_uploads_with_the_same_name_each_get_their_own_result(open_page, model_run):
    # Three files called photo.png (say, from three folders): one not an image, a 0 and a 2.
    digits = _sure_digits(model_run)
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.file_uploader, "Images").set_value([
        ("photo.png", b"not an image", "image/png"),
        ("photo.png", digits["0"].read_bytes(), "image/png"),
        ("photo.png", digits["2"].read_bytes(), "image/png"),
    ])

    at.run()

    assert len(at.error) == 1 and "photo.png is not a usable image" in at.error[0].value
    assert _answer_lines(at) == [f"**photo.png: 0** ({_shown(model_run, digits['0'])[1]:.1%})",
                                 f"**photo.png: 2** ({_shown(model_run, digits['2'])[1]:.1%})"]


def _binary_model(run, folder):
    """The calibrated run's model cut to two classes: the same base and features, one sigmoid unit whose logit is
    the difference of the "1" and "0" logits, so p = P(1) / (P(0) + P(1)) of the three-class model."""
    from tlcore.layers.loading import load_model
    from tlcore.modeling.model import build_model

    three = load_model(run.model_path)
    two = build_model(run.config(), 2, load_weights=False)
    for layer in two.layers:
        if layer.name != "head" and layer.weights:
            layer.set_weights(three.get_layer(layer.name).get_weights())
    kernel, bias = three.get_layer("head").get_weights()
    two.get_layer("head").set_weights([kernel[:, 1:2] - kernel[:, 0:1], bias[1:2] - bias[0:1]])
    path = folder / "binary.keras"
    two.save(path)
    return three, path


def test_two_class_model_reads_its_single_sigmoid_unit(open_page, model_run, tmp_path):
    from tlcore.datasets import load_array

    digits = _sure_digits(model_run)
    three, binary = _binary_model(model_run, tmp_path)
    run = make_run(model_run.config(), state="finished", class_names=["0", "1"], model=binary.read_bytes())
    # The answer the page must show, from the three-class model's own probabilities (no calibration: a new run).
    expected = {}
    for name in ("0", "1"):
        p = three.predict(load_array(digits[name], 32)[None], verbose=0)[0]
        expected[name] = p[int(name)] / (p[0] + p[1])
    at = open_page("pages/predict.py", query_params={"run": run.id}, timeout=PREDICT_TIMEOUT_S)
    assert by_label(at.selectbox, "Model from run").value == run.id
    top_k = by_label(at.slider, "Top-k")
    assert (top_k.max, top_k.value) == (2, 2)
    by_label(at.file_uploader, "Images").set_value([("a.png", digits["0"].read_bytes(), "image/png"),
                                                    ("b.png", digits["1"].read_bytes(), "image/png")])

    at.run()

    assert not at.exception and not at.error
    assert _answer_lines(at) == [f"**a.png: 0** ({expected['0']:.1%})", f"**b.png: 1** ({expected['1']:.1%})"]
    assert _top_k_bars(at) == [["1", "0"], ["0", "1"]]


# --- Grad-CAM, external models, batch prediction, export -----------------------------------------------------
def _task_params(studio, kind):
    tasks = [json.loads(path.read_text()) for path in (studio.home / "tasks").glob("*/task.json")]
    return [task["params"] for task in tasks if task["kind"] == kind]


def test_grad_cam_for_the_predicted_and_a_chosen_class(open_page, model_run):
    from tlcore.inference.predictor import cached_predictor
    from tlcore.datasets import load_array

    digit = _sure_digits(model_run)["1"]
    predictor = cached_predictor(model_run.id, model_run.model_path.stat().st_mtime)
    probabilities = predictor.probabilities(load_array(digit, predictor.image_size)[None])[0]
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.file_uploader, "Images").set_value(("one.png", digit.read_bytes(), "image/png"))
    by_label(at.toggle, "Grad-CAM").set_value(True)

    at.run()

    assert not at.exception and not at.error
    assert by_label(at.selectbox, "Grad-CAM class").value == "1"  # the predicted class first
    # the deepest map at least 7×7 of MobileNetV2 at 32 px (tlcore.inference.gradcam.MIN_MAP_SIZE)
    assert at.image[1].captions == [f"Grad-CAM: 1 ({probabilities[1]:.1%}) · layer base/block_3_expand_relu (8×8 map)"]

    by_label(at.selectbox, "Grad-CAM class").set_value("2").run()

    assert at.image[1].captions[0].startswith(f"Grad-CAM: 2 ({probabilities[2]:.1%})")
    assert probabilities[2] < probabilities[1]


def test_a_corrupt_external_upload_gets_a_clear_message(open_page):
    at = open_page("pages/predict.py")
    by_label(at.radio, "Model").set_value("An external .keras file").run()
    assert "Choose a model file and give its class names." in texts(at.info)

    by_label(at.file_uploader, "Model file (.keras)").set_value(("mine.keras", b"PK\x03\x04 half a file",
                                                                 "application/octet-stream"))
    by_label(at.text_input, "…or class names, comma-separated").set_value("cat, dog").run()

    # shown as text (the file name is the user's): its backticks escaped, never a Markdown construct
    assert texts(at.error) == [escape_markdown(
        "`mine.keras` is not a Keras model file: a `.keras` file (Keras 3 format) is a zip archive holding the "
        "model's config and weights, and this one is not (corrupt, truncated, or another format such as .h5).")]
    assert not any(uploader.label == "Images" for uploader in at.file_uploader)


def test_an_external_model_with_the_wrong_class_count_is_refused_then_predicts(open_page, model_run):
    from tlcore.layers.loading import load_model
    from tlcore.datasets import load_array

    digit = _sure_digits(model_run)["1"]
    # An external model is not calibrated: the page shows the model's own probability.
    expected = load_model(model_run.model_path).predict(load_array(digit, 32)[None], verbose=0)[0]
    assert expected.argmax() == 1
    at = open_page("pages/predict.py", timeout=PREDICT_TIMEOUT_S)
    by_label(at.radio, "Model").set_value("An external .keras file").run()
    by_label(at.file_uploader, "Model file (.keras)").set_value(("three.keras", model_run.model_path.read_bytes(),
                                                                 "application/octet-stream"))
    by_label(at.file_uploader, "labels.txt (one class a line, in output order)").set_value(
        ("labels.txt", b"cat\ndog\n", "text/plain"))
    at.run()

    assert texts(at.error) == ["three.keras has 3 output units but 2 class names were given (cat, dog). Give one "
                               "name per output, in output order (3 names)."]

    by_label(at.file_uploader, "labels.txt (one class a line, in output order)").set_value(
        ("labels.txt", "\n".join(NAMES).encode(), "text/plain"))
    at.run()
    by_label(at.file_uploader, "Images").set_value(("digit.png", digit.read_bytes(), "image/png")).run()

    assert not at.error
    assert [text for text in texts(at.markdown) if text.startswith("**digit")] == [
        f"**digit.png: one** ({expected[1]:.1%})"]
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
    dataset = model_run.config().dataset
    first_two = sorted((model_run.path.parent.parent / "data" / dataset / "2").glob("*.png"))[0]
    answer, probability = _shown(model_run, first_two)
    at = open_page("pages/predict.py", query_params={"dataset": dataset}, timeout=PREDICT_TIMEOUT_S)
    by_label(at.toggle, "Pick from the dataset").set_value(True).run()
    by_label(at.selectbox, f"Class folder of {dataset}").set_value("2").run()

    picked = by_label(at.multiselect, "Dataset images")
    assert picked.value == [f"2/{first_two.name}"]  # the class's first image, preselected

    assert not at.exception and not at.error
    assert answer == "2"  # a "2" the model was trained on
    assert _answer_lines(at) == [f"**2/{first_two.name}: 2** ({probability:.1%})"]
