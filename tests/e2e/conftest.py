"""Fixtures for the browser tests: a real `streamlit run app.py` server on a free port and headless Debian Chromium.

The server runs on its own data/runs folders under a temporary directory and an empty KERAS_HOME, so no ImageNet
weights are found, exactly as on an offline server.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.e2e.servers import REPO_ROOT, free_port, healthy, serve, streamlit_command, studio_server_env

ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = Path(os.environ.get("TLSTUDIO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: drives the real app in headless Chromium (slow: trains one model)")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def studio_env(tmp_path_factory) -> dict[str, Path]:
    """Where the app under test keeps everything: nothing touches ~/.tlstudio or ~/.keras."""
    base = tmp_path_factory.mktemp("e2e")
    paths = {name: base / name for name in ("home", "data", "runs", "keras")}
    for path in paths.values():
        path.mkdir()
    return paths


@pytest.fixture(scope="module")
def app_url(studio_env, artifacts_dir):
    """Start the app exactly as a user would, wait for /_stcore/health, stop the whole process group afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        yield from serve(streamlit_command(sys.executable, port), artifacts_dir / "streamlit.log", "streamlit",
                         lambda: healthy(url), url, cwd=REPO_ROOT, env=studio_server_env(studio_env))
    finally:
        _stop_workers(studio_env["runs"])


def _stop_workers(runs_dir: Path) -> None:
    """Training workers run in their own sessions (they outlive a server restart): stop any a failed test left."""
    for status_path in runs_dir.glob("*/status.json"):
        try:
            status = json.loads(status_path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(status, dict):  # a damaged status a hostile-input test planted
            continue
        if status.get("state") == "queued":
            (status_path.parent / "cancel.request").write_text("e2e teardown\n")  # the worker leaves the queue
        if status.get("state") in ("queued", "running") and status.get("pid"):
            try:
                os.killpg(int(status["pid"]), signal.SIGTERM)
            except (ProcessLookupError, PermissionError, TypeError, ValueError):  # gone, or a damaged pid
                pass


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM} (bash .ci/run installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must never pass by skipping the browser test
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
