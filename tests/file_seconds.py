"""Refresh tests/file_seconds.json from a pytest log run with `--durations=0` (e.g. `bash .ci/run --durations=0 | tee
ci.log`): each test file's setup + call + teardown seconds, summed, for the files that took at least MIN_SECONDS.

tests/conftest.py starts the heaviest files first, so under pytest-xdist the short ones even out the workers at the
end. Usage: `python tests/file_seconds.py ci.log`.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

__all__ = ["MIN_SECONDS", "file_seconds"]

MIN_SECONDS = 5.0
DURATION = re.compile(r"^\s*([0-9.]+)s (?:setup|call|teardown)\s+(\S+?)::")


def file_seconds(log_text: str) -> dict[str, float]:
    """{test file: seconds}, heaviest first, from the `slowest durations` lines of a pytest log."""
    totals: dict[str, float] = defaultdict(float)
    for line in log_text.splitlines():
        match = DURATION.match(line)
        if match:
            totals[match.group(2)] += float(match.group(1))
    return {path: round(total, 1) for path, total in sorted(totals.items(), key=lambda item: -item[1])
            if total >= MIN_SECONDS}


if __name__ == "__main__":
    table = file_seconds(Path(sys.argv[1]).read_text(errors="replace"))
    target = Path(__file__).with_name("file_seconds.json")
    target.write_text(json.dumps(table, indent=1) + "\n")
    print(f"{target}: {len(table)} files, {sum(table.values()) / 60:.1f} min in all")
