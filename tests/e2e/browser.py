"""The one "wait until the page has drawn" of the browser tests (was copied in four test modules).

While a script reruns, Streamlit keeps the previous elements on screen marked stale and shows skeletons and a running
indicator, so a locator can briefly match both the old and the new copy of an element, and a screenshot can show
placeholders. `wait_idle` waits for none of those to be left; `wait_drawn` first waits for a known element.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["APP_TIMEOUT_MS", "IDLE_SCRIPT", "camera_film", "sure_test_image", "wait_drawn", "wait_idle"]

APP_TIMEOUT_MS = 60_000
IDLE_SCRIPT = """() => !document.querySelector('[data-testid=stSkeleton]')
               && !document.querySelector('[data-testid=stStatusWidgetRunningIcon]')
               && !document.querySelector('[data-testid=stElementContainer][data-stale=true]')"""
RERUN_START_MS = 300  # let a widget change reach the server and the rerun begin before waiting for its end


def wait_idle(page, timeout_ms: int = APP_TIMEOUT_MS) -> None:
    """Until the rerun an interaction caused is over: no skeleton, no running indicator, no stale (faded) element."""
    page.wait_for_timeout(RERUN_START_MS)
    page.wait_for_function(IDLE_SCRIPT, timeout=timeout_ms)


def wait_drawn(page, known, timeout_ms: int = APP_TIMEOUT_MS) -> None:
    """Until `known` (a locator on the page) is shown and the page is idle (see `wait_idle`), then scroll it into
    view, so a screenshot shows widgets rather than placeholders."""
    known.wait_for(timeout=timeout_ms)
    page.wait_for_function(IDLE_SCRIPT, timeout=timeout_ms)
    known.first.scroll_into_view_if_needed()


def sure_test_image(run_folder: Path, data_root: Path) -> tuple[Path, str]:
    """A test image the run answers right and most surely (from its stored calibration), and its class: the answer
    a browser test must see, never "not sure"."""
    record = json.loads((run_folder / "eval" / "calibration.json").read_text())
    split = json.loads((run_folder / "split.json").read_text())
    config = json.loads((run_folder / "config.json").read_text())
    held_out = record["held_out"]
    index = max((i for i, ok in enumerate(held_out["correct"]) if ok), key=lambda i: held_out["confidence"][i])
    relative, label = split["test"][index]
    return data_root / config["dataset"] / relative, split["class_names"][label]


def camera_film(image: Path, film: Path, width: int = 640, height: int = 480) -> Path:
    """A Y4M video (what Chromium's fake camera plays with --use-file-for-fake-video-capture) of one grey image
    stretched to the frame: the app squashes a photo back to its input size, so the camera shows that image."""
    import numpy as np
    from PIL import Image

    luma = np.asarray(Image.open(image).convert("L").resize((width, height), Image.Resampling.BILINEAR), np.uint8)
    chroma = np.full((height // 2) * (width // 2), 128, np.uint8).tobytes()  # grey: no colour
    with open(film, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(2):
            out.write(b"FRAME\n" + luma.tobytes() + chroma + chroma)
    return film
