"""Issue 16 in a real browser: compute the map of a dataset of the user's own, drag a box over the points, and
relabel one selected image; the file moves on disk and the cleaning log says who did what.
Screenshots go to test-artifacts/e2e/cleaner-*.png."""

from __future__ import annotations

import json
import os
import re

import pytest
from test_workflow import APP_TIMEOUT_MS, _assert_no_exception, _set_number, _wait_for_app, _wait_idle

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
MAP_TIMEOUT_MS = 300_000  # a worker process: TensorFlow start-up, a random MobileNetV2 at 32 px on 15 images, PCA
CLASSES = ("0", "1", "2")


@pytest.fixture(scope="module")
def mine(studio_env, digits_master):
    """A dataset of the user's own in the server's data root: 3 digit classes × 5 images (copies, writable)."""
    root = studio_env["data"] / "mine"
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for image in sorted((digits_master / name).glob("*.png"))[:5]:
            (root / name / image.name).write_bytes(image.read_bytes())
    return root


def test_select_points_on_the_map_and_relabel_one(page, app_url, mine, artifacts_dir):
    page.goto(f"{app_url}/dataset?dataset=mine")
    _wait_for_app(page)
    page.get_by_role("tab", name="Map & clean").click()
    page.get_by_text("Random (untrained features)", exact=True).click()
    _wait_idle(page)
    page.get_by_text("PCA", exact=True).click()
    _wait_idle(page)
    _set_number(page, "Image size (px)", 32)
    page.get_by_role("button", name="Compute map").click()
    expect(page.get_by_text("-dim features", exact=False)).to_be_visible(timeout=MAP_TIMEOUT_MS)
    _wait_idle(page)

    chart = page.locator("[data-testid=stPlotlyChart]").last
    chart.scroll_into_view_if_needed()
    drag = chart.locator(".nsewdrag").first
    expect(drag).to_be_visible(timeout=APP_TIMEOUT_MS)
    box = drag.bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=8)
    page.mouse.up()
    expect(page.get_by_text("selected on the map", exact=False)).to_be_visible(timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    page.screenshot(path=str(artifacts_dir / "cleaner-1-selected.png"))

    selected = page.locator("[data-testid=stMultiSelect]").filter(has_text="Images to act on")
    path = re.search(r"\d/digit_\d+\.png", selected.inner_text()).group(0)  # the first selected image, chosen
    old_class, name = path.split("/")
    new_class = next(c for c in CLASSES if c != old_class)
    chooser = page.locator("[data-testid=stSelectbox]").filter(has_text="New class")
    chooser.locator("input").first.click()
    page.keyboard.type(new_class)
    page.keyboard.press("Enter")
    _wait_idle(page)
    page.screenshot(path=str(artifacts_dir / "cleaner-2-class-chosen.png"))
    expect(chooser.locator("input").first).to_have_value(new_class)
    page.get_by_role("button", name="Relabel").click()
    # the message names exactly what moved (tlcore.curation.describe)
    expect(page.get_by_text(f"Relabel: moved {path} {old_class} → {new_class}", exact=False)).to_be_visible(
        timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    page.screenshot(path=str(artifacts_dir / "cleaner-3-relabelled.png"))
    _assert_no_exception(page)

    assert (mine / new_class / name).is_file() and not (mine / old_class / name).exists()
    assert sum(len(os.listdir(mine / c)) for c in CLASSES) == 15  # moved, nothing lost or copied
    log = json.loads((mine / ".tlstudio-cleaning.json").read_text())["actions"]
    assert [(a["kind"], a["actor"], a["source"], a["target"]) for a in log] == [
        ("relabel", "local", path, f"{new_class}/{name}")]
