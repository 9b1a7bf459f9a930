"""The Demo page in a real browser with a fake camera filming a digit: an uploaded digit and a camera photo of one are
each classified as that digit, the page has no training, export or cancel control, and it fits a phone's width. Uses the session's discriminating,
calibrated run (tests/conftest.py), copied into the server's folders: no training here.

Screenshots go to test-artifacts/e2e/demo-*.png.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.e2e.browser import camera_film, sure_test_image, wait_idle
from tests.e2e.fake_camera import camera_chromium, camera_context

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

APP_TIMEOUT_MS = 60_000
PREDICT_TIMEOUT_MS = 120_000  # the server loads TensorFlow and the model on the first photo
CONTROL_WORDS = re.compile(r"train|export|cancel|resume|fine-tune|evaluate|delete|mark as best", re.I)


@pytest.fixture(scope="module")
def camera_browser(served_run, tmp_path_factory):
    """Chromium with a fake camera filming a test digit the run answers surely, allowed without asking."""
    digit, _ = _confident_digit(served_run)
    with camera_chromium(camera_film(digit, tmp_path_factory.mktemp("camera") / "digit.y4m")) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def served_run(calibrated_run_master, studio_env):
    """The run and its dataset in the server's folders (once per module, like the server)."""
    shutil.copytree(calibrated_run_master.parent.parent / "data" / "digits3", studio_env["data"] / "digits3")
    shutil.copytree(calibrated_run_master, studio_env["runs"] / calibrated_run_master.name)
    return studio_env["runs"] / calibrated_run_master.name


def _confident_digit(run_folder) -> tuple[object, str]:
    """A test image the model answers right and surely (from its stored calibration), and its class."""
    return sure_test_image(run_folder, run_folder.parent.parent / "data")


def _new_page(browser, width: int, height: int):
    context = camera_context(browser, width, height, timeout_ms=30_000)
    return context, context.new_page()


_wait_idle = wait_idle  # tests/e2e/browser.py


def _assert_no_controls(page) -> None:
    labels = [text.strip() for text in page.locator("[data-testid=stMain] button").all_inner_texts()]
    assert not [label for label in labels if CONTROL_WORDS.search(label)], labels
    assert page.locator("[data-testid=stMain] [data-testid=stDownloadButton]").count() == 0
    exceptions = page.locator("[data-testid=stException]")
    assert exceptions.count() == 0, exceptions.first.inner_text()


def test_upload_and_camera_photo_are_classified_without_any_control(camera_browser, app_url, served_run,
                                                                    artifacts_dir):
    digit, truth = _confident_digit(served_run)
    context, page = _new_page(camera_browser, 1400, 1100)
    try:
        page.goto(f"{app_url}/demo?run={served_run.name}")
        _wait_idle(page)
        expect(page.get_by_role("heading", name="What is it? · digits3")).to_be_visible(timeout=APP_TIMEOUT_MS)
        _assert_no_controls(page)
        expect(page.locator("[data-testid=stSidebar]")).to_be_hidden()  # no way to the other pages

        page.get_by_text("Upload or drop a photo", exact=True).click()  # the camera comes first
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(digit))
        answer = page.locator("p.demo-answer")
        expect(answer).to_have_text(truth, timeout=PREDICT_TIMEOUT_MS)
        # the rest of the answer's rerun: bounded like the page's first draw, not by expect's 5 s default
        expect(page.locator("p.demo-detail")).to_contain_text("% sure", timeout=APP_TIMEOUT_MS)
        expect(page.get_by_text(f"“{truth}” looked like in training")).to_be_visible(timeout=APP_TIMEOUT_MS)
        expect(page.locator("[data-testid=stPlotlyChart]").first).to_be_visible(timeout=APP_TIMEOUT_MS)
        expect(page.get_by_text("About this model")).to_be_visible(timeout=APP_TIMEOUT_MS)
        _wait_idle(page)
        _assert_no_controls(page)
        page.screenshot(path=str(artifacts_dir / "demo-1-upload.png"))

        page.get_by_text("Camera", exact=True).click()
        take = page.locator("[data-testid=stCameraInputButton]")
        expect(take).to_be_enabled(timeout=APP_TIMEOUT_MS)  # enabled once the (fake) camera streams
        expect(answer).to_have_count(0)  # no photo yet: no answer
        page.wait_for_timeout(1000)
        take.click()
        expect(answer).to_have_count(1, timeout=PREDICT_TIMEOUT_MS)
        expect(page.locator("p.demo-detail")).to_contain_text("%", timeout=PREDICT_TIMEOUT_MS)
        _wait_idle(page)
        expect(answer).to_have_text(truth)  # the camera films that digit: the model names it
        _wait_idle(page)
        _assert_no_controls(page)
        answer.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "demo-2-camera.png"))
    finally:
        context.close()


def test_the_answer_fits_and_stays_large_on_a_phone(camera_browser, app_url, served_run, artifacts_dir):
    digit, truth = _confident_digit(served_run)
    context, page = _new_page(camera_browser, 390, 844)
    try:
        page.goto(f"{app_url}/demo?run={served_run.name}")
        _wait_idle(page)
        page.get_by_text("Upload or drop a photo", exact=True).click()
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(digit))
        answer = page.locator("p.demo-answer")
        expect(answer).to_have_text(truth, timeout=PREDICT_TIMEOUT_MS)
        _wait_idle(page)
        page.evaluate("() => window.scrollTo(0, 0)")
        size = float(answer.evaluate("element => getComputedStyle(element).fontSize").removesuffix("px"))
        assert size >= 56, size  # 3.5rem at least: readable at arm's length
        title = page.get_by_role("heading", name="What is it? · digits3")
        title_size = float(title.evaluate("element => getComputedStyle(element).fontSize").removesuffix("px"))
        assert size > title_size, (size, title_size)  # the answer, not the title, is the largest type
        answer_box = answer.bounding_box()
        photo_box = page.locator("[data-testid=stImage]").first.bounding_box()
        assert answer_box["y"] + answer_box["height"] <= 844, answer_box  # above the fold, without scrolling
        assert answer_box["y"] < photo_box["y"], (answer_box, photo_box)  # the answer first, then the photo
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the phone"
        answer.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "demo-3-phone.png"))
    finally:
        context.close()
