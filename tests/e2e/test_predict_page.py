"""Predict page in a real browser: upload a digit, see its top-k and its Grad-CAM, then export the model and see the
export's parity row (the cheapest format, .keras; tests/unit/test_export.py checks every format). Uses the session's
discriminating, calibrated run (tests/conftest.py; no training here) and a test image it answers surely, so the page
must show that image's own class.

Screenshots go to test-artifacts/e2e/predict-*.png.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.e2e.browser import sure_test_image, wait_idle

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

APP_TIMEOUT_MS = 60_000
CALIBRATED_DATASET = "digits3"  # the dataset of tests/conftest.py's calibrated run
EXPORT_TIMEOUT_MS = 240_000  # a worker process: TF start-up, saving, reloading and the check


@pytest.fixture
def served_run(calibrated_run_master, studio_env):
    """The shared calibrated run and its dataset, copied into the folders the app under test reads."""
    shutil.copytree(calibrated_run_master.parent.parent / "data" / CALIBRATED_DATASET,
                    studio_env["data"] / CALIBRATED_DATASET)
    shutil.copytree(calibrated_run_master, studio_env["runs"] / calibrated_run_master.name)
    return studio_env["runs"] / calibrated_run_master.name


def test_upload_see_top_k_and_grad_cam_then_export(page, app_url, served_run, studio_env, artifacts_dir):
    page.goto(f"{app_url}/predict?run={served_run.name}")
    _wait_idle(page)
    expect(page.get_by_role("heading", name="Predict")).to_be_visible(timeout=APP_TIMEOUT_MS)

    digit, truth = sure_test_image(served_run, studio_env["data"])
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(digit))
    expect(page.get_by_text(re.compile(rf"{re.escape(digit.name)}: {truth} \(\d+\.\d%\)"))).to_be_visible(
        timeout=APP_TIMEOUT_MS)  # the image's own class, not any class
    expect(page.locator("[data-testid=stPlotlyChart]").first).to_be_visible(timeout=APP_TIMEOUT_MS)

    page.get_by_text("Grad-CAM", exact=True).click()
    caption = page.get_by_text(re.compile(rf"^Grad-CAM: {truth} \(\d+\.\d%\) · layer base/\w+ \(\d+×\d+ map\)$"))
    expect(caption).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.locator("[data-testid=stImage] img").nth(1)).to_be_visible()
    _wait_idle(page)
    page.screenshot(path=str(artifacts_dir / "predict-1-top-k-and-grad-cam.png"))

    page.get_by_text("Export the model").click()
    formats = page.locator("[data-testid=stMultiSelect]").filter(has_text="Formats")
    formats.get_by_role("button", name=re.compile("Clear all", re.I)).first.click()
    _wait_idle(page)
    formats.locator("input").click()
    formats.locator("input").fill("Keras (.k")
    page.get_by_role("option", name="Keras (.keras)", exact=True).click()  # the one format, picked by name
    _wait_idle(page)
    page.keyboard.press("Escape")
    expect(formats).to_contain_text("Keras (.keras)")
    page.get_by_role("button", name="Export", exact=True).click()
    parity = page.locator("[data-testid=stTable] tr").filter(has_text="Keras (.keras)")
    expect(parity).to_contain_text("passed (≥ 99 % top-1 agreement)", timeout=EXPORT_TIMEOUT_MS)
    expect(parity).to_contain_text("100.0%")
    expect(page.get_by_role("button", name="keras", exact=True)).to_be_visible()
    _wait_idle(page)
    parity.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "predict-2-export-parity.png"))
    assert (served_run / "exports" / "keras" / "model.keras").stat().st_size > 100_000
    exceptions = page.locator("[data-testid=stException]")
    assert exceptions.count() == 0, exceptions.first.inner_text()


_wait_idle = wait_idle  # tests/e2e/browser.py
