"""Issue 3 in a real browser: upload a .zip of class folders, read its health report, browse its thumbnails and
preview augmentation with the training layers. Screenshots go to test-artifacts/e2e/dataset-*.png.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image, ImageDraw
from test_workflow import APP_TIMEOUT_MS, _assert_no_exception, _metric, _open_page, _wait_for_app, _wait_idle

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
PREVIEW_TIMEOUT_MS = 120_000  # the first preview imports TensorFlow in the server process


def _pets_zip(path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for position, name in enumerate(("cats", "dogs")):
            for index in range(6):
                buffer = io.BytesIO()
                image = Image.new("RGB", (48, 40), (40 * index, 120 * position, 90))
                ImageDraw.Draw(image).polygon([(6, 6), (40, 12), (14, 34)], fill=(255, 220, 0))  # shows any flip/turn
                image.save(buffer, "PNG")
                archive.writestr(f"pets/{name}/{name}_{index}.png", buffer.getvalue())
        archive.writestr("pets/dogs/broken.jpg", b"this is not a JPEG")


def test_upload_a_zip_then_health_thumbnails_and_augmentation(page, app_url, artifacts_dir, tmp_path):
    zip_path = tmp_path / "pets.zip"
    _pets_zip(zip_path)
    page.goto(app_url)
    _wait_for_app(page)
    _open_page(page, "Dataset")
    expect(_metric(page, "Images")).to_have_text("1,797", timeout=APP_TIMEOUT_MS)  # the sample, fully drawn
    _wait_idle(page)

    page.get_by_text("Upload a .zip", exact=True).click(timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(zip_path))
    expect(_metric(page, "Images")).to_have_text("13", timeout=APP_TIMEOUT_MS)  # 12 images + the broken file
    expect(_metric(page, "Classes")).to_have_text("2")
    _wait_idle(page)

    # Browse (the first tab): thumbnails of the 12 readable images, the broken one left out
    thumbnails = page.locator("[data-testid=stImage] img, .stImage img")
    expect(thumbnails.first).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.get_by_text("cats · cats_0.png", exact=True)).to_be_visible()
    expect(page.get_by_text("broken.jpg")).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / "dataset-1-thumbnails.png"))

    # Health: the broken file named with its reason, and the size/mode histograms
    page.get_by_role("tab", name="Health").click()
    expect(page.get_by_text("1 file(s) cannot be read and will be left out of training (1 not an image)")) \
        .to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.locator("[data-testid=stPlotlyChart]")).to_have_count(4)  # classes, sizes, modes, split
    page.screenshot(path=str(artifacts_dir / "dataset-2-health.png"))

    # Augmentation: nine augmented copies made by the training layers, re-rolled on demand
    page.get_by_role("tab", name="Augmentation").click()
    page.get_by_role("button", name="Preview 9 augmentations").click()
    expect(page.get_by_text("training=True · #9", exact=True)).to_be_visible(timeout=PREVIEW_TIMEOUT_MS)
    last_tile = page.locator("[data-testid=stImage] img").last
    first_src = last_tile.get_attribute("src")  # media URLs are content hashes: a new picture gets a new URL
    page.get_by_role("button", name="Re-roll").click()
    expect(last_tile).not_to_have_attribute("src", first_src, timeout=PREVIEW_TIMEOUT_MS)
    _wait_idle(page, PREVIEW_TIMEOUT_MS)
    page.get_by_text("training=True · #9", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "dataset-3-augmentation.png"))
    _assert_no_exception(page)
