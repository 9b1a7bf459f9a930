"""First clicks after a fresh server start, repeated: tests/e2e/test_first_click_browser.py N times in one pytest
session, each repetition with a server process of its own (started after the run is in place, so the clicks land
while it imports TensorFlow). Issue 24's "done when": it passes 10 times in a row.

Run: `.venv/bin/python bench/first_click_repeat.py [--repeats 10]`. Needs Chromium (/usr/bin/chromium or
$TLSTUDIO_CHROMIUM) and Playwright; trains the session's small calibrated run once (~80 s), then ~1-4 min per
repetition on a loaded 2-core machine. Prints one line per repetition and "passed N/10"; exits 1 unless all pass.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/e2e/test_first_click_browser.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="first-click-") as scratch:
        report = Path(scratch) / "junit.xml"
        env = dict(os.environ, TLSTUDIO_FIRST_CLICK_REPEATS=str(args.repeats))
        subprocess.run([sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider",
                        f"--junitxml={report}", "-o", "junit_family=xunit2"], cwd=REPO_ROOT, env=env, check=False)
        outcomes = _outcomes(report) if report.exists() else {}
    passed = sum(outcome == "passed" for outcome in outcomes.values())
    for name, outcome in outcomes.items():
        print(f"{name}: {outcome}")
    print(f"passed {passed}/{args.repeats} first-click repetitions, each on a freshly started server")
    return 0 if passed == args.repeats else 1


def _outcomes(report: Path) -> dict[str, str]:
    """Test case name → passed / failed / error / skipped, in run order."""
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name")] = {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
    return outcomes


if __name__ == "__main__":
    sys.exit(main())
