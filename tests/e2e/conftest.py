"""Fixtures for the browser tests: a real `streamlit run app.py` server on a free port and headless Debian Chromium.

The server runs on its own data/runs folders under a temporary directory and an empty KERAS_HOME, so no ImageNet
weights are found, exactly as on an offline server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = Path(os.environ.get("TLSTUDIO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
HEALTH_TIMEOUT_S = 60


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: drives the real app in headless Chromium (slow: trains one model)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


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
    port = _free_port()
    env = dict(os.environ,
               TLSTUDIO_HOME=str(studio_env["home"]), TLSTUDIO_DATA_ROOT=str(studio_env["data"]),
               TLSTUDIO_RUNS_DIR=str(studio_env["runs"]), KERAS_HOME=str(studio_env["keras"]),
               TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    log_path = artifacts_dir / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not _healthy(url):
            if server.poll() is not None:
                pytest.fail(f"streamlit exited with {server.returncode}; see {log_path}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {HEALTH_TIMEOUT_S} s; see {log_path}")
            time.sleep(0.5)
        yield url
    finally:
        _stop_group(server)
        _stop_workers(studio_env["runs"])


def _stop_workers(runs_dir: Path) -> None:
    """Training workers run in their own sessions (they outlive a server restart): stop any a failed test left."""
    for status_path in runs_dir.glob("*/status.json"):
        try:
            status = json.loads(status_path.read_text())
        except (OSError, ValueError):
            continue
        if status.get("state") == "queued":
            (status_path.parent / "cancel.request").write_text("e2e teardown\n")  # the worker leaves the queue
        if status.get("state") in ("queued", "running") and status.get("pid"):
            try:
                os.killpg(int(status["pid"]), signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left after 15 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=15)


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
