"""Issue 25 item 3 in a real browser: on the map of a dataset of the user's own, select points, then relabel one
file, exclude another, keep a third and undo the relabel, checking every file's folder on disk after each step (the
page recomputes its candidates, default class and undo list from the cleaning log; nothing acts on stale state).
Screenshots go to test-artifacts/e2e/cleaner-sequence-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_workflow import APP_TIMEOUT_MS, _assert_no_exception, _set_number, _wait_for_app, _wait_idle

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
MAP_TIMEOUT_MS = 300_000  # a worker process: TensorFlow start-up, a random MobileNetV2 at 32 px on 15 images, PCA
CLASSES = ("0", "1", "2")
DATASET = "mine-sequence"
FILE = re.compile(r"\d/digit_\d+\.png")


@pytest.fixture(scope="module")
def mine(studio_env, digits_master):
    """A dataset of the user's own in the server's data root: 3 digit classes × 5 images (copies, writable)."""
    root = studio_env["data"] / DATASET
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for image in sorted((digits_master / name).glob("*.png"))[:5]:
            (root / name / image.name).write_bytes(image.read_bytes())
    return root


def _layout(root: Path) -> dict[str, str]:
    """{file name: its folder relative to the dataset} for every image, the excluded ones included."""
    return {path.name: str(path.parent.relative_to(root)) for path in root.rglob("*.png")}


def _first_chosen(page) -> str:
    """The file the cleaner's "Images to act on" list has chosen (its default: the first offered)."""
    selected = page.locator("[data-testid=stMultiSelect]").filter(has_text="Images to act on")
    expect(selected).to_be_visible(timeout=APP_TIMEOUT_MS)
    return FILE.search(selected.inner_text()).group(0)


def _choose(page, label: str, text: str) -> None:
    chooser = page.locator("[data-testid=stSelectbox]").filter(has_text=label)
    chooser.locator("input").first.click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    _wait_idle(page)


def test_select_relabel_exclude_keep_undo_moves_exactly_the_named_files(page, app_url, mine, artifacts_dir):
    expected = _layout(mine)
    assert len(expected) == 15
    page.goto(f"{app_url}/dataset?dataset={DATASET}")
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

    # select: a box over the whole plot
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
    page.screenshot(path=str(artifacts_dir / "cleaner-sequence-1-selected.png"))
    assert _layout(mine) == expected  # selecting moves nothing

    # relabel the chosen file: the button names it before the click, and only it moves
    relabelled = _first_chosen(page)
    old_class, relabelled_name = relabelled.split("/")
    new_class = next(c for c in CLASSES if c != old_class)
    _choose(page, "New class", new_class)
    expect(page.get_by_text(f"{relabelled} {old_class} → {new_class}", exact=False).first).to_be_visible(
        timeout=APP_TIMEOUT_MS)
    page.get_by_role("button", name="Relabel").click()
    expect(page.get_by_text(f"Relabel: moved {relabelled} {old_class} → {new_class}", exact=False)).to_be_visible(
        timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    expected[relabelled_name] = new_class
    assert _layout(mine) == expected
    page.screenshot(path=str(artifacts_dir / "cleaner-sequence-2-relabelled.png"))

    # exclude the file the list offers now (recomputed from the log: the relabelled file under its new path)
    excluded = _first_chosen(page)
    page.get_by_role("button", name="Exclude").click()
    expect(page.get_by_text(f"Exclude: excluded {excluded}", exact=False)).to_be_visible(timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    excluded_name = excluded.split("/")[1]
    expected[excluded_name] = f"_excluded/{excluded.split('/')[0]}"
    assert _layout(mine) == expected
    page.screenshot(path=str(artifacts_dir / "cleaner-sequence-3-excluded.png"))

    # keep: an excluded file is never offered again, so Keep acts on another file and moves nothing
    kept = _first_chosen(page)
    assert kept != excluded and kept.split("/")[1] != excluded_name
    page.get_by_role("button", name="Keep").click()
    expect(page.get_by_text(f"Keep: kept {kept} as it is", exact=False)).to_be_visible(timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    assert _layout(mine) == expected
    page.screenshot(path=str(artifacts_dir / "cleaner-sequence-4-kept.png"))

    # undo the newest move (picked by what it did): that file goes back, nothing else moves
    undone_text = f"excluded {excluded}"
    _choose(page, "Action to undo", undone_text)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text(f"Undone: {undone_text}", exact=False)).to_be_visible(timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    expected[excluded_name] = excluded.split("/")[0]
    assert _layout(mine) == expected
    page.screenshot(path=str(artifacts_dir / "cleaner-sequence-5-undone.png"))
    _assert_no_exception(page)
