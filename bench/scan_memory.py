"""Memory of counting does not grow with the folder: peak Python allocations for 10,000 vs 100,000 files.

Run: `.venv/bin/python bench/scan_memory.py`. Measures with tracemalloc, side by side in one run, `count_images`
(counts only: should stay flat) and `scan_folder` (keeps the file list the split needs: grows linearly, for comparison).
"""

from __future__ import annotations

import shutil
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _folders import make_folder  # noqa: E402


def peak_kib(function, *args) -> float:
    tracemalloc.start()
    function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def main() -> None:
    from tlcore.datasets.scan import count_images, scan_folder

    rows = []
    for count in (10_000, 100_000):
        root, name = make_folder(count)
        count_images(name)  # warm the imports and caches so only the listing is measured
        rows.append((count, peak_kib(count_images, name), peak_kib(scan_folder, name)))
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'files':>8} {'count_images peak KiB':>22} {'scan_folder peak KiB':>21}")
    for count, counting, scanning in rows:
        print(f"{count:>8,} {counting:>22,.0f} {scanning:>21,.0f}")
    (small, count_small, scan_small), (large, count_large, scan_large) = rows
    print(f"growth 10k → 100k: count_images ×{count_large / count_small:.2f}, scan_folder ×{scan_large / scan_small:.2f}"
          f" (files ×{large // small})")


if __name__ == "__main__":
    main()
