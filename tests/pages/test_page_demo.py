"""Demo page (/demo?run=RUN) with a real, discriminating, calibrated run: a photo gets its answer in large type with
calibrated bars, "not sure" below the run's threshold, Grad-CAM on request, training images of the answer and a
short model card; no training, export or cancel control anywhere; without a link, links to every finished run."""

import json
import shutil

import pytest
from page_helpers import by_label, make_run, metric_value, texts

pytestmark = pytest.mark.filterwarnings(  # Keras 3.15 under NumPy 2, on every model call; not ours to fix
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

PREDICT_TIMEOUT_S = 120  # the first photo loads the model and traces its compiled call


@pytest.fixture
def demo_run(studio, calibrated_run_master):
    """The discriminating run and its dataset, in this page test's folders."""
    from tlcore.inference.predictor import cached_predictor
    from tlcore.runs.folders import get_run

    cached_predictor.cache_clear()  # every test's copy has the same run id
    shutil.copytree(calibrated_run_master.parent.parent / "data" / "digits3", studio.data_root / "digits3",
                    copy_function=shutil.copy)
    shutil.copytree(calibrated_run_master, studio.runs_dir / calibrated_run_master.name)
    return get_run(calibrated_run_master.name)


def _test_image(run, most_confident: bool) -> tuple[str, str, bytes, float]:
    """(file, true class, bytes, calibrated confidence) of the right test image the model is most (least) sure of."""
    from tlcore.inference.calibrated import read_calibration

    held_out = read_calibration(run)["held_out"]
    items = run.split().test
    right = [i for i, ok in enumerate(held_out["correct"]) if ok]
    index = (max if most_confident else min)(right, key=lambda i: held_out["confidence"][i])
    relative, label = items[index]
    path = run.path.parent.parent / "data" / "digits3" / relative
    return relative, run.class_names()[label], path.read_bytes(), held_out["confidence"][index]


def _answers(at) -> list[str]:
    return [text for text in texts(at.markdown) if 'class="demo-answer' in text]


def _no_controls(at) -> None:
    """Nothing that trains, exports, cancels or downloads: a viewer can only look."""
    assert not at.button and not at.get("download_button")
    assert not [e for e in at.expander if "Export" in e.label]


def _upload_mode(at):
    """The camera comes first; switch to the upload."""
    by_label(at.radio, "Photo from").set_value("Upload or drop a photo").run()
    return at


def test_a_photo_gets_its_answer_bars_examples_and_the_card(open_page, demo_run):
    relative, truth, data, confidence = _test_image(demo_run, most_confident=True)
    at = open_page("pages/demo.py", query_params={"run": demo_run.id}, timeout=PREDICT_TIMEOUT_S)
    assert at.subheader[0].value == "What is it? · digits3"  # smaller than the answer
    assert by_label(at.radio, "Photo from").value == "Camera"  # the camera first: what a presenter shows
    _no_controls(at)

    uploader = by_label(_upload_mode(at).file_uploader, "Drop a photo here, or browse")
    uploader.set_value((relative, data, "image/png")).run()

    assert not at.exception and not at.error
    assert _answers(at) == [f'<p class="demo-answer">{truth}</p>']
    assert f'<p class="demo-detail">{confidence:.0%} sure</p>' in texts(at.markdown)
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert bars["y"][-1] == truth and len(bars["y"]) == 3
    assert bars["x"][-1] == pytest.approx(confidence, abs=1e-5)  # calibrated, as evaluation measured it
    split = demo_run.split()
    examples = [relative for relative, label in split.train if split.class_names[label] == truth]
    assert any(f"“{truth}” looked like in training" in text for text in texts(at.markdown))
    assert len(at.image[-1].proto.imgs) == 4  # four training images of the answer
    assert metric_value(at, "Test accuracy") == f"{demo_run.evaluation()['accuracy']:.0%}"
    assert metric_value(at, "Trained on") == f"{len(split.train)} images" and len(examples) > 4
    assert any("Probabilities calibrated (temperature" in text for text in texts(at.caption))
    support = demo_run.path / "eval" / "calibration.json"
    supported_by = json.loads(support.read_text())["reject"]["supported_by"]
    assert any(f"target, supported by {supported_by} validation answers" in text for text in texts(at.caption))
    _no_controls(at)


def test_below_the_threshold_the_answer_is_not_sure_with_the_best_guess(open_page, demo_run):
    from tlcore.evaluation.confidence import set_target_accuracy

    relative, truth, data, confidence = _test_image(demo_run, most_confident=False)
    threshold = set_target_accuracy(demo_run, 1.0)["reject"]["threshold"]
    assert confidence < threshold  # the least sure right answer falls below a 100 % target's threshold
    at = open_page("pages/demo.py", query_params={"run": demo_run.id}, timeout=PREDICT_TIMEOUT_S)

    by_label(_upload_mode(at).file_uploader, "Drop a photo here, or browse").set_value(
        (relative, data, "image/png")).run()

    assert _answers(at) == ['<p class="demo-answer not-sure">not sure</p>']
    # a 100 % target is never supported by finitely many answers: the audience is told
    assert any("can never be supported" in text for text in texts(at.warning))
    assert any(f"best guess {truth} at {confidence:.0%}, below the {threshold:.0%}" in text for text in texts(at.markdown))
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["shapes"][0]["x0"] == pytest.approx(threshold)


def test_a_camera_photo_and_grad_cam(open_page, demo_run):
    import io

    from PIL import Image

    relative, truth, data, _ = _test_image(demo_run, most_confident=True)
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").resize((240, 240)).save(jpeg, format="JPEG", quality=95)
    at = open_page("pages/demo.py", query_params={"run": demo_run.id}, timeout=PREDICT_TIMEOUT_S)
    by_label(at.radio, "Photo from").set_value("Camera").run()

    at.camera_input[0].set_value(("photo.jpg", jpeg.getvalue(), "image/jpeg")).run()
    by_label(at.toggle, "Show where it looked (Grad-CAM)").set_value(True).run()

    assert not at.exception and not at.error
    assert not [text for text in texts(at.warning) if "validation answers" not in text]  # Grad-CAM worked
    assert _answers(at) == [f'<p class="demo-answer">{truth}</p>']  # the digit, photographed, still reads right
    assert at.image[0].captions == [f"Where the evidence for “{truth}” was strongest (Grad-CAM)"]
    assert at.image[0].proto.imgs[0].url  # the overlay is drawn in place of the photo
    _no_controls(at)


def test_without_a_link_every_finished_run_gets_one(open_page, demo_run):
    make_run(state="running")  # not finished: no demo
    at = open_page("pages/demo.py")

    links = at.get("page_link")
    assert [(link.value, link.proto.query_string) for link in links if "demo" in link.proto.page] == [
        (demo_run.id, f"run={demo_run.id}")]
    assert at.title[0].value == "Demo"


def test_an_unknown_or_unfinished_run_says_so(open_page, demo_run):
    running = make_run(state="running")

    unknown = open_page("pages/demo.py", query_params={"run": "no-such-run"})
    unfinished = open_page("pages/demo.py", query_params={"run": running.id})

    # the link's name, not the server's folders (issue 24: messages showed server paths to the audience)
    assert texts(unknown.error) == ["No model named `no-such-run` here: the link may be mistyped, or the run deleted."]
    assert str(demo_run.path.parent) not in " ".join(texts(unknown.error))
    assert texts(unfinished.warning) == [f"Run `{running.id}` has no finished model to show (state: running)."]


def _navigation_hidden(at) -> bool:
    return any("stSidebarNav" in element.proto.body for element in at.get("html"))


def test_an_audience_gets_no_navigation_unless_a_member_asks(open_page, demo_run):
    from tlcore.access import VIEWER, User

    audience = open_page("pages/demo.py", query_params={"run": demo_run.id})
    member = open_page("pages/demo.py", query_params={"run": demo_run.id, "nav": "1"})
    viewer = open_page("pages/demo.py", query_params={"run": demo_run.id, "nav": "1"},
                       user=User(id="guest@example.org", role=VIEWER))

    assert _navigation_hidden(audience)
    assert not _navigation_hidden(member)  # without sign-in the local user is an admin, who asked
    assert _navigation_hidden(viewer)
