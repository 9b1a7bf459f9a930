"""docs/scaling.md keeps the Ray dashboard safe (issue 31: it "suggests a dashboard on all interfaces without saying
that Ray's Jobs API has no authentication"): it says so, and every mention of listening on all interfaces is a
"never"."""

import re
from pathlib import Path

SCALING = Path(__file__).resolve().parents[3] / "docs" / "scaling.md"


def test_the_scaling_guide_keeps_the_dashboard_on_loopback_and_says_why():
    text = " ".join(SCALING.read_text().split())
    assert "Keep the dashboard on loopback or behind authentication" in text
    assert "Jobs API on the dashboard port has no authentication" in text
    for sentence in re.split(r"(?<=[.:])\s", text):
        if "0.0.0.0" in sentence:
            assert "never" in sentence, sentence
