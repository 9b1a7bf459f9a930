"""The Evaluate page in a real browser: click a cell of the confusion matrix and see exactly its images, then compare
two runs. The runs are written to the server's runs folder by tlcore itself (report + per-image predictions), so no
model is trained here.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from test_workflow import _assert_no_exception, _open_page, _wait_for_app, _wait_idle

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

APP_TIMEOUT_MS = 60_000
CLASSES = ["0", "1", "2"]
Y_TRUE = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
PROBABILITIES = np.array([  # two mistakes: a 1 taken for a 0, a 2 taken for a 1
    [.8, .1, .1], [.7, .2, .1], [.6, .3, .1],
    [.5, .4, .1], [.2, .7, .1], [.1, .8, .1],
    [.1, .6, .3], [.1, .2, .7], [.2, .1, .7],
])


@pytest.fixture
def two_runs(studio_env, digits_master, monkeypatch):
    """Two evaluated runs of the sample digits that differ only in learning rate, in the server's folders."""
    from tlcore.config.training import TrainConfig
    from tlcore.evaluation.metrics import classification_report, store_evaluation
    from tlcore.runs.folders import create_run

    for variable, name in (("TLSTUDIO_HOME", "home"), ("TLSTUDIO_DATA_ROOT", "data"), ("TLSTUDIO_RUNS_DIR", "runs")):
        monkeypatch.setenv(variable, str(studio_env[name]))
    digits = studio_env["data"] / "sample-digits"
    if not digits.exists():
        shutil.copytree(digits_master, digits, copy_function=os.link)
    files = [f"{d}/{path.name}" for d in "012" for path in sorted((digits / d).glob("*.png"))[:3]]
    runs = []
    for rate in (1e-3, 1e-4):
        run = create_run(TrainConfig(dataset="sample-digits", weights="random", image_size=32, learning_rate=rate))
        run.update_status(state="finished")
        run.write_history([{"epoch": 1, "phase": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1,
                            "val_accuracy": 0.4 + rate * 100}])
        store_evaluation(run, classification_report(Y_TRUE, PROBABILITIES, CLASSES, files=files), PROBABILITIES)
        runs.append(run)
    return runs, files


def test_click_a_confusion_cell_then_compare_two_runs(page, app_url, two_runs, artifacts_dir):
    (first, second), files = two_runs
    page.goto(app_url)
    _wait_for_app(page)
    _open_page(page, "Evaluate")
    expect(page.get_by_role("heading", name="Evaluate")).to_be_visible(timeout=APP_TIMEOUT_MS)
    chart = page.locator("[data-testid=stPlotlyChart]").filter(has_text="click a cell")
    expect(chart).to_be_visible(timeout=APP_TIMEOUT_MS)

    # cells are drawn row by row (true class), column by column (predicted): index 3 is true 1 → predicted 0
    cell = chart.locator(".scatterlayer .trace .points path").nth(3)
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    _wait_idle(page)
    picker = page.get_by_role("combobox", name="Images in a confusion cell")
    expect(picker).to_have_value("true 1 → predicted 0 (1 image, wrong)", timeout=APP_TIMEOUT_MS)
    expect(page.get_by_text("1 image(s) true 1 → predicted 0")).to_be_visible()
    cell_images = page.locator("[data-testid=stImage]").filter(has=page.get_by_text(files[3], exact=True))
    expect(cell_images).to_have_count(1)
    page.get_by_text("1 image(s) true 1 → predicted 0").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "evaluate-1-cell-images.png"))

    # another cell: the diagonal of class 2 holds files 7 and 8
    cell = chart.locator(".scatterlayer .trace .points path").nth(8)
    box = cell.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    _wait_idle(page)
    expect(picker).to_have_value("true 2 → predicted 2 (2 images, right)", timeout=APP_TIMEOUT_MS)
    for name in files[7:9]:
        expect(page.get_by_text(name, exact=True)).to_be_visible()
    expect(page.get_by_text(files[3], exact=True)).to_have_count(0)

    # compare: add the second run to the comparison
    compare = page.locator("[data-testid=stMultiSelect]").filter(has_text="Runs to compare")
    compare.scroll_into_view_if_needed()
    compare.locator("input").click()
    other = page.get_by_role("option")  # the run on show is already chosen; the other one is offered
    expect(other).to_have_count(1)
    shown = page.url.split("run=")[1]
    expect(other).to_have_text(second.id if shown == first.id else first.id)
    other.click()
    page.keyboard.press("Escape")
    _wait_idle(page)
    expect(page.get_by_text("Only the config fields that differ between these runs are shown.")).to_be_visible(
        timeout=APP_TIMEOUT_MS)
    curves = page.locator("[data-testid=stPlotlyChart]").filter(has_text="Learning curves of the compared runs")
    expect(curves).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(curves).to_contain_text(f"{first.id} validation")
    expect(curves).to_contain_text(f"{second.id} validation")
    curves.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "evaluate-2-compare.png"))
    _assert_no_exception(page)
