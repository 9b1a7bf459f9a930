"""The first interaction after a fresh server start, as a presenter does it: open the demo and Predict links at once
and, within the first seconds (while the server is still importing TensorFlow), upload a photo and click every
control. The reruns this fires import TensorFlow at the same time; none may crash the page (issue 24: "This app has
encountered an error", `partially initialized module 'tensorflow' has no attribute 'config'`).

One server start for the module (tests/e2e/conftest.py's `app_url`), requested after the run is in place so the
pages are opened seconds after the server answers. Screenshots go to test-artifacts/e2e/first-click-*.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]  # the session fixture trains a run first

APP_TIMEOUT_MS = 60_000
SETTLE_TIMEOUT_MS = 240_000  # TensorFlow, the model and Grad-CAM on a loaded 2-core machine
CHROMIUM = Path(os.environ.get("TLSTUDIO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
CRASH_TEXT = "This app has encountered an error"


@pytest.fixture(scope="module")
def camera_browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def served_run(calibrated_run_master, studio_env):
    """The session's discriminating, calibrated run in the server's folders, before the server starts."""
    shutil.copytree(calibrated_run_master.parent.parent / "data" / "digits3", studio_env["data"] / "digits3")
    shutil.copytree(calibrated_run_master, studio_env["runs"] / calibrated_run_master.name)
    return studio_env["runs"] / calibrated_run_master.name


def _a_digit(run_folder: Path) -> Path:
    return sorted((run_folder.parent.parent / "data" / "digits3").rglob("*.png"))[0]


def _wait_idle(page, timeout_ms: int) -> None:
    page.wait_for_timeout(500)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid=stSkeleton]')
               && !document.querySelector('[data-testid=stStatusWidgetRunningIcon]')
               && !document.querySelector('[data-testid=stElementContainer][data-stale=true]')""",
        timeout=timeout_ms, polling=500)  # not requestAnimationFrame: it stops in a page that is not in front


def _assert_no_crash(page, where: str) -> None:
    exceptions = page.locator("[data-testid=stException]")
    assert exceptions.count() == 0, f"{where}: {exceptions.first.inner_text()}"
    assert page.get_by_text(CRASH_TEXT).count() == 0, where


def test_every_first_click_on_demo_and_predict_right_after_start(camera_browser, served_run, app_url,
                                                                 artifacts_dir):
    digit = _a_digit(served_run)
    # One context (one window) per page: a background tab of a shared window is throttled by Chromium.
    contexts = [camera_browser.new_context(viewport={"width": 1400, "height": 1100}, permissions=["camera"])
                for _ in range(2)]
    for context in contexts:
        context.set_default_timeout(APP_TIMEOUT_MS)
    try:
        demo, predict = (context.new_page() for context in contexts)
        demo.goto(f"{app_url}/demo?run={served_run.name}")
        predict.goto(f"{app_url}/predict?run={served_run.name}")

        # Demo: switch to the upload, drop the photo, back to the camera and to the upload again, at once.
        demo.get_by_text("Upload or drop a photo", exact=True).click()
        demo.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(digit))
        demo.get_by_text("Camera", exact=True).click()
        demo.get_by_text("Upload or drop a photo", exact=True).click()
        demo.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(digit))

        # Predict: upload, Grad-CAM, camera, pick from the dataset: each click a rerun, all before TF is ready.
        predict.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(digit))
        for control in ("Grad-CAM", "Use the camera", "Pick from the dataset"):
            predict.get_by_text(control, exact=True).click()

        for name, page in (("demo", demo), ("predict", predict)):
            page.bring_to_front()
            _wait_idle(page, SETTLE_TIMEOUT_MS)
            page.screenshot(path=str(artifacts_dir / f"first-click-{name}.png"), full_page=True)
            _assert_no_crash(page, name)
        expect(demo.locator("p.demo-answer")).to_have_count(1, timeout=SETTLE_TIMEOUT_MS)  # it did answer
        demo.get_by_text("Show where it looked (Grad-CAM)", exact=True).click()
        _wait_idle(demo, SETTLE_TIMEOUT_MS)
        _assert_no_crash(demo, "demo after Grad-CAM")
        _assert_no_crash(predict, "predict at the end")
    finally:
        for context in contexts:
            context.close()
