"""Issue 31's "Done when" in Chromium: Home and Train show a damaged run folder and a run stopped by a full disk as
states (said in words, not a traceback or the generic error page), and an injection string in a Demo link shows as
plain text: no link, image, bold, KaTeX or HTML element is made from it and the browser fetches nothing from it.

The two runs are written into the server's folders as a worker (disk full) or a hand edit (damaged) leaves them; no
training here. Screenshots go to test-artifacts/e2e/hostile-*.png.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

from tests.e2e.browser import APP_TIMEOUT_MS, wait_idle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_inputs import INJECTIONS  # noqa: E402

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

DAMAGED_STATUS = '{"state": "running", "pid": "abc"}'  # the first example: it once crashed Home for everyone
CRASH_TEXT = "This app has encountered an error"


@pytest.fixture(scope="module")
def hostile_runs(studio_env, app_url) -> dict[str, str]:
    """A run failed on a full disk (as the worker records it) and a damaged one, in the server's runs folder.

    Torn down before the server (it asks for `app_url`): the damaged status is then emptied, because the shared
    teardown (tests/e2e/conftest.py `_stop_workers`) reads every status's pid as a number."""
    from tlcore.config.training import TrainConfig
    from tlcore.runs.disk_space import disk_full_message
    from tlcore.runs.folders import FAILED, create_run

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TLSTUDIO_RUNS_DIR", str(studio_env["runs"]))
        patch.setenv("TLSTUDIO_HOME", str(studio_env["home"]))
        config = TrainConfig(dataset="sample-digits", weights="random")
        full = create_run(config)
        full.update_status(state=FAILED, phase="failed", error=disk_full_message(full.path, 40 * 2**20),
                           error_type="DiskFull", finished_at=1.0)
        damaged = create_run(config)
        (damaged.path / "status.json").write_text(DAMAGED_STATUS)
    yield {"disk full": full.id, "damaged": damaged.id}
    (damaged.path / "status.json").write_text("{}")


def _open(page, url: str) -> None:
    page.goto(url)
    page.locator("[data-testid=stMain]").wait_for(timeout=APP_TIMEOUT_MS)
    wait_idle(page)


def _assert_no_crash(page, where: str) -> None:
    exceptions = page.locator("[data-testid=stException]")
    assert exceptions.count() == 0, f"{where}: {exceptions.first.inner_text()}"
    assert page.get_by_text(CRASH_TEXT).count() == 0, where


def _grid_text(page) -> str:
    """The cells of Home's runs table (a canvas grid; its accessible table holds the cells drawn), scrolled through
    horizontally so the last columns (state, damaged, note) are drawn too."""
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.scroll_into_view_if_needed()
    seen = []
    scroller = grid.locator(".dvn-scroller").first
    width = scroller.evaluate("element => element.scrollWidth")
    for left in range(0, int(width) + 400, 400):
        scroller.evaluate(f"element => {{ element.scrollLeft = {left}; }}")
        page.wait_for_timeout(200)
        seen.append(grid.locator("table").first.inner_text())
    return "\n".join(seen)


def test_home_shows_the_damaged_and_the_disk_full_run_as_states(page, app_url, hostile_runs, artifacts_dir):
    _open(page, app_url)
    expect(page.get_by_text("1 run folder(s) damaged")).to_be_visible(timeout=APP_TIMEOUT_MS)
    cells = _grid_text(page)
    page.screenshot(path=str(artifacts_dir / "hostile-home.png"), full_page=True)

    _assert_no_crash(page, "Home")
    assert hostile_runs["damaged"] in cells and hostile_runs["disk full"] in cells, cells
    assert "damaged" in cells and "pid" in cells, cells  # the state, and the field the reason names
    assert "disk full:" in cells and "MB free, needs about" in cells, cells


def test_train_shows_each_run_in_its_state(page, app_url, hostile_runs, artifacts_dir):
    _open(page, f"{app_url}/train?run={hostile_runs['damaged']}")
    expect(page.get_by_text("This run is damaged:")).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.get_by_text("This run is damaged:")).to_contain_text("pid")
    _assert_no_crash(page, "Train, damaged run")
    page.screenshot(path=str(artifacts_dir / "hostile-train-damaged.png"), full_page=True)

    _open(page, f"{app_url}/train?run={hostile_runs['disk full']}")
    expect(page.get_by_text("The job failed: disk full:")).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.get_by_text("The job failed: disk full:")).to_contain_text("MB free, needs about")
    _assert_no_crash(page, "Train, disk-full run")
    page.screenshot(path=str(artifacts_dir / "hostile-train-disk-full.png"), full_page=True)


@pytest.mark.parametrize("injection", INJECTIONS[:5])
def test_an_injection_in_a_demo_link_shows_as_plain_text(page, app_url, hostile_runs, artifacts_dir, injection):
    fetched = []
    page.on("request", lambda request: fetched.append(request.url)
            if (urlparse(request.url).hostname or "").endswith("evil.example") else None)
    _open(page, f"{app_url}/demo?run={quote(injection, safe='')}")
    message = page.locator("[data-testid=stMain] [data-testid=stAlert]").filter(has_text="No model named")
    expect(message).to_be_visible(timeout=APP_TIMEOUT_MS)

    _assert_no_crash(page, "Demo")
    assert message.locator("code").inner_text() == injection  # shown verbatim, as text
    main = page.locator("[data-testid=stMain]")
    assert main.locator("a[href*='evil.example'], a[href^='javascript:']").count() == 0
    assert main.locator("img[src*='evil.example'], img[src='x']").count() == 0
    assert main.locator(".katex, math").count() == 0
    assert main.locator("b, strong").filter(has_text=re.compile(r"^\s*(B|bold)\s*$")).count() == 0
    assert fetched == []
    page.screenshot(path=str(artifacts_dir / f"hostile-demo-{INJECTIONS.index(injection)}.png"), full_page=True)
