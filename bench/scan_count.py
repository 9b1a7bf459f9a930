"""Counting a 100,000-image folder must take under 3 s and decode no image.

Run: `.venv/bin/python bench/scan_count.py [COUNT]`. Builds a folder of COUNT (default 100,000) tiny files in 10 class
folders, then times, side by side in this one run: `count_images` (counts only), `scan_folder` (the full listing the
page and training use) and, for scale, decoding the first 1,000 files as the health check does.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _folders import make_folder  # noqa: E402

TARGET_S = 3.0


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    started = time.perf_counter()
    root, name = make_folder(count)
    print(f"built {count:,} files in {time.perf_counter() - started:.1f} s under {root}")
    from tlcore.datasets.scan import count_images, scan_folder
    from tlcore.datasets import images

    decoded = []
    original = images._decode
    images._decode = lambda source: decoded.append(source) or original(source)  # proves no image is opened
    try:
        started = time.perf_counter()
        counts = count_images(name)
        count_s = time.perf_counter() - started
        started = time.perf_counter()
        scan = scan_folder(name)
        scan_s = time.perf_counter() - started
    finally:
        images._decode = original
    assert sum(counts["all"].values()) == len(scan.files) == count and not decoded
    started = time.perf_counter()
    for relative, _ in scan.files[:1000]:
        try:
            images.inspect_image(scan.root / relative)
        except images.BadImage:
            pass
    decode_per_file = (time.perf_counter() - started) / 1000
    print(f"count_images: {count_s:.2f} s  ({count_s / TARGET_S:.2f} of the {TARGET_S:.0f} s target)"
          f"  {'OK' if count_s < TARGET_S else 'TOO SLOW'}")
    print(f"scan_folder:  {scan_s:.2f} s  ({scan_s / TARGET_S:.2f} of the target)  images decoded: {len(decoded)}")
    print(f"opening every file instead would take ≈{decode_per_file * count:.1f} s "
          f"({decode_per_file * count / count_s:.0f}× counting)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
