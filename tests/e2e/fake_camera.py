"""Headless Chromium with a fake camera allowed without asking, for the browser tests of Demo and Predict.

One place for the set-up the Demo and first-click tests share: the Chromium path and flags (as tests/e2e/conftest.py
starts Chromium, which is not imported: with tests/pages in the same session, `conftest` names another module), the
fake-camera flags, and a film of one image for the camera to show.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "CAMERA_ARGS", "camera_chromium", "camera_context"]

CHROMIUM = Path(os.environ.get("TLSTUDIO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@contextmanager
def camera_chromium(film: Path | None = None) -> Iterator[object]:
    """Chromium whose camera is allowed without asking and shows `film` (a .y4m from tests/e2e/browser.camera_film),
    or Chromium's own test pattern when `film` is None. Skips the test when there is no Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    film_args = [f"--use-file-for-fake-video-capture={film}"] if film is not None else []
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=[*CHROMIUM_ARGS, *CAMERA_ARGS, *film_args])
        try:
            yield chromium
        finally:
            chromium.close()


def camera_context(browser, width: int, height: int, timeout_ms: int):
    """A new window (context) of `width`×`height` allowed to use the camera, with `timeout_ms` as its default."""
    context = browser.new_context(viewport={"width": width, "height": height}, permissions=["camera"])
    context.set_default_timeout(timeout_ms)
    return context
