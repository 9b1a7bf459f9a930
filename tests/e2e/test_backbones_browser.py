"""The Backbones page in a real browser: download ImageNet weights from a (local) weights host with a live progress
bar, a file that is not what Keras expects refused; a corrupt model offered as your own backbone refused plainly.

The app server gets `TLSTUDIO_WEIGHTS_MIRROR` pointing at a throttled local http.server, so it is "online" without
the internet. Screenshots go to test-artifacts/e2e/.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time

import pytest

from tests.e2e.browser import wait_idle

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

APP_TIMEOUT_MS = 120_000  # a busy 2-core CI machine: first render, worker start-up
WEIGHTS_PATH = "/keras-applications/efficientnetb0_notop.h5"  # as in tlcore/weights_sources.json
FAKE_WEIGHTS = bytes(range(256)) * 16 * 1024  # 4 MiB that are not EfficientNetB0's weights (hash will not match)


class _ThrottledHandler(http.server.SimpleHTTPRequestHandler):
    """Sends files in 64 KiB pieces, 150 ms apart (~10 s for 4 MiB), so the progress bar is seen even on a busy
    machine (the page polls once a second)."""

    def copyfile(self, source, outputfile):
        while chunk := source.read(64 * 1024):
            outputfile.write(chunk)
            time.sleep(0.15)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def weights_mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights-mirror")
    (root / WEIGHTS_PATH.lstrip("/")).parent.mkdir(parents=True)
    (root / WEIGHTS_PATH.lstrip("/")).write_bytes(FAKE_WEIGHTS)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_ThrottledHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with pytest.MonkeyPatch.context() as patch:  # the app server started below inherits it
        patch.setenv("TLSTUDIO_WEIGHTS_MIRROR", f"http://127.0.0.1:{server.server_port}")
        yield root
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def studio_env(studio_env, weights_mirror):
    """conftest's studio folders, with the mirror running before the app server starts."""
    return studio_env


def _wait_idle(page) -> None:
    wait_idle(page, APP_TIMEOUT_MS)  # tests/e2e/browser.py


def test_download_shows_progress_and_refuses_a_wrong_file_and_a_corrupt_model(page, app_url, studio_env,
                                                                              artifacts_dir, tmp_path):
    page.goto(f"{app_url}/backbones")
    page.locator("[data-testid=stApp]").wait_for(timeout=APP_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="ImageNet weights")).to_be_visible(timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    body = page.locator("[data-testid=stMain]").inner_text()
    assert "This server can reach 127.0.0.1" in body, body[-3000:]

    page.get_by_role("button", name="Download EfficientNetB0").click()
    progress = page.locator("[data-testid=stProgress]")
    expect(progress).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.get_by_text("downloaded", exact=False).first).to_be_visible(timeout=APP_TIMEOUT_MS)
    page.screenshot(path=str(artifacts_dir / "backbones-1-download-progress.png"), full_page=True)

    expect(page.get_by_text("is not the file Keras expects", exact=False)).to_be_visible(timeout=APP_TIMEOUT_MS)
    assert not (studio_env["keras"] / "models" / "efficientnetb0_notop.h5").exists()
    page.screenshot(path=str(artifacts_dir / "backbones-2-hash-refused.png"), full_page=True)

    page.get_by_text("upload a .keras file").click()
    _wait_idle(page)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a model")
    uploader = page.locator("[data-testid=stFileUploader]").filter(has_text="Model file")
    uploader.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(broken))
    expect(page.get_by_text("is not a Keras model file", exact=False)).to_be_visible(timeout=APP_TIMEOUT_MS)
    page.screenshot(path=str(artifacts_dir / "backbones-3-corrupt-model.png"), full_page=True)
