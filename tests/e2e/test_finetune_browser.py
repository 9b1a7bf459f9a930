"""Fine-tuning in a real browser: open a finished run on Fine-tune, unfreeze from a block, start the job, watch it
finish, and see both phases as one learning curve with a table of phases.

Screenshots go to test-artifacts/e2e/finetune-*.png.
"""

from __future__ import annotations

import shutil

import pytest
from test_workflow import APP_TIMEOUT_MS, TRAIN_TIMEOUT_MS, _assert_no_exception, _set_number, _wait_for_app, _wait_idle

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture
def finished_run(trained_run_master, studio_env):
    """The session's tiny trained run (MobileNetV2, 32 px, 3 digit classes) and its dataset, in the app's folders."""
    data = trained_run_master.parent.parent / "data"
    for dataset in data.iterdir():
        shutil.copytree(dataset, studio_env["data"] / dataset.name, dirs_exist_ok=True)
    target = studio_env["runs"] / trained_run_master.name
    shutil.copytree(trained_run_master, target, dirs_exist_ok=True)
    return target.name


def test_fine_tune_from_a_block_and_see_the_phases(page, app_url, finished_run, studio_env, artifacts_dir):
    page.goto(f"{app_url}/finetune?run={finished_run}")
    _wait_for_app(page)
    expect(page.get_by_role("heading", name="Fine-tune")).to_be_visible(timeout=APP_TIMEOUT_MS)

    page.get_by_text("a block", exact=True).click()
    _wait_idle(page)
    page.locator("[data-testid=stSelectbox]").filter(has_text="Unfreeze MobileNetV2 from block").click()
    page.get_by_role("option", name="block_16", exact=True).click()
    _wait_idle(page)
    expect(page.get_by_text("Layer 143 is block_16_expand in block block_16")).to_be_visible(timeout=APP_TIMEOUT_MS)
    _set_number(page, "More epochs", 1)
    page.screenshot(path=str(artifacts_dir / "finetune-1-block.png"))

    page.get_by_role("button", name="Start fine-tuning").click()
    expect(page.get_by_text("Finished: test accuracy")).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    child = [path.name for path in studio_env["runs"].iterdir() if path.name.endswith("_finetune")]
    assert len(child) == 1
    page.screenshot(path=str(artifacts_dir / "finetune-2-finished.png"))

    # The finished fine-tuning run, opened by its link: two phases, one curve, one table.
    page.goto(f"{app_url}/finetune?run={child[0]}")
    _wait_for_app(page)
    phases = page.locator("[data-testid=stExpander]").filter(has_text=f"Phases of {child[0]} (2)")
    expect(phases).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(phases.locator("[data-testid=stPlotlyChart]")).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(phases.locator("[data-testid=stDataFrame]")).to_be_visible()
    assert "phase 2" in phases.locator("[data-testid=stPlotlyChart]").inner_text()
    phases.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "finetune-3-phases.png"))
    _assert_no_exception(page)
