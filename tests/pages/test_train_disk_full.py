"""Start training on a full disk says "Disk full" in one line instead of the generic error page (issue 31: "Home and
Start training show the generic error instead of 'disk full'"). Every atomic write fails as write(2) does on a full
file system (tests/disk_full.py); the page must not raise."""

from __future__ import annotations

import sys
from pathlib import Path

from page_helpers import by_label, texts

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from disk_full import fill_disk  # noqa: E402


def test_start_training_on_a_full_disk_says_disk_full(open_page, monkeypatch):
    from tlcore.storage import atomic

    at = open_page("pages/train.py")
    by_label(at.radio, "Starting weights").set_value("random").run()  # no cached ImageNet weights offline
    fill_disk(monkeypatch, atomic)  # the disk fills up now: the run's files cannot be written

    by_label(at.button, "Start training").click().run()

    assert not at.exception, [item.value for item in at.exception]
    (message,) = [text for text in texts(at.error) if "Disk full" in text]
    assert "\n" not in message and "Traceback" not in message
    assert "run" not in at.query_params  # no run to follow: nothing was queued
