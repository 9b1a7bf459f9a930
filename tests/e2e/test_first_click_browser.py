"""The first interaction after a fresh server start, as a presenter does it: open the demo and Predict links at once
and, within the first seconds (while the server is still importing TensorFlow), upload a photo and click every
control. The reruns this fires import TensorFlow at the same time; none may crash the page (issue 24: "This app has
encountered an error", `partially initialized module 'tensorflow' has no attribute 'config'`).

Each repetition starts a server of its own (a fresh process that has not imported TensorFlow), after the run is in
place, so the pages are opened seconds after the server answers. `TLSTUDIO_FIRST_CLICK_REPEATS=10` repeats it (what
bench/first_click_repeat.py runs: "passes 10 times in a row on a freshly started server"); the default is once.
Screenshots go to test-artifacts/e2e/first-click-<page>-<n>.png, each server's log to first-click-streamlit-<n>.log.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.e2e.browser import IDLE_SCRIPT
from tests.e2e.fake_camera import camera_chromium, camera_context
from tests.e2e.servers import REPO_ROOT, free_port, healthy, serve, streamlit_command, studio_server_env

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]  # the session fixture trains a run first

APP_TIMEOUT_MS = 60_000
SETTLE_TIMEOUT_MS = 240_000  # TensorFlow, the model and Grad-CAM on a loaded 2-core machine
CRASH_TEXT = "This app has encountered an error"
REPEATS = max(1, int(os.environ.get("TLSTUDIO_FIRST_CLICK_REPEATS", "1")))


@pytest.fixture(scope="module")
def camera_browser():
    with camera_chromium() as chromium:  # Chromium's own test pattern: nothing here is classified from the camera
        yield chromium


@pytest.fixture
def served_run(calibrated_run_master, tmp_path) -> Path:
    """The session's discriminating, calibrated run in this repetition's own server folders, before it starts."""
    studio = {name: tmp_path / name for name in ("home", "data", "runs", "keras")}
    for folder in studio.values():
        folder.mkdir()
    shutil.copytree(calibrated_run_master.parent.parent / "data" / "digits3", studio["data"] / "digits3")
    shutil.copytree(calibrated_run_master, studio["runs"] / calibrated_run_master.name)
    return studio["runs"] / calibrated_run_master.name


@pytest.fixture
def fresh_app_url(served_run, artifacts_dir, request):
    """A server started for this repetition only, on the repetition's folders (tests/e2e/servers.py)."""
    base = served_run.parent.parent
    studio = {name: base / name for name in ("home", "data", "runs", "keras")}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = artifacts_dir / f"first-click-streamlit-{request.node.callspec.params['repetition']}.log"
    yield from serve(streamlit_command(sys.executable, port), log, "streamlit", lambda: healthy(url), url,
                     cwd=REPO_ROOT, env=studio_server_env(studio))


def _a_digit(run_folder: Path) -> Path:
    return sorted((run_folder.parent.parent / "data" / "digits3").rglob("*.png"))[0]


def _wait_idle(page, timeout_ms: int) -> None:
    """tests/e2e/browser.wait_idle, polled every 500 ms: requestAnimationFrame stops in a page that is not in front."""
    page.wait_for_timeout(500)
    page.wait_for_function(IDLE_SCRIPT, timeout=timeout_ms, polling=500)


def _assert_no_crash(page, where: str) -> None:
    exceptions = page.locator("[data-testid=stException]")
    assert exceptions.count() == 0, f"{where}: {exceptions.first.inner_text()}"
    assert page.get_by_text(CRASH_TEXT).count() == 0, where


@pytest.mark.parametrize("repetition", range(1, REPEATS + 1))
def test_every_first_click_on_demo_and_predict_right_after_start(camera_browser, served_run, fresh_app_url,
                                                                 artifacts_dir, repetition):
    app_url = fresh_app_url
    digit = _a_digit(served_run)
    # One context (one window) per page: a background tab of a shared window is throttled by Chromium.
    contexts = [camera_context(camera_browser, 1400, 1100, APP_TIMEOUT_MS) for _ in range(2)]
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
            page.screenshot(path=str(artifacts_dir / f"first-click-{name}-{repetition}.png"), full_page=True)
            _assert_no_crash(page, name)
        expect(demo.locator("p.demo-answer")).to_have_count(1, timeout=SETTLE_TIMEOUT_MS)  # it did answer
        demo.get_by_text("Show where it looked (Grad-CAM)", exact=True).click()
        _wait_idle(demo, SETTLE_TIMEOUT_MS)
        _assert_no_crash(demo, "demo after Grad-CAM")
        _assert_no_crash(predict, "predict at the end")
    finally:
        for context in contexts:
            context.close()
