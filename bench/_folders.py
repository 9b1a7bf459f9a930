"""Shared by the scan benchmarks: a throw-away data root holding N tiny files in class folders (no real images)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TINY_PNG = bytes.fromhex("89504e470d0a1a0a")  # just the signature: counting must never open a file


def make_folder(count: int, classes: int = 10) -> tuple[Path, str]:
    """(data root, dataset name): `count` files spread over `classes` class folders; sets TLSTUDIO_DATA_ROOT."""
    root = Path(tempfile.mkdtemp(prefix="tlstudio-bench-"))
    os.environ["TLSTUDIO_DATA_ROOT"] = str(root)
    os.environ["TLSTUDIO_HOME"] = str(root / ".home")
    name = f"tiny-{count}"
    for index in range(classes):
        (root / name / f"class_{index:02d}").mkdir(parents=True)
    for index in range(count):
        (root / name / f"class_{index % classes:02d}" / f"img_{index:06d}.png").write_bytes(TINY_PNG)
    return root, name
