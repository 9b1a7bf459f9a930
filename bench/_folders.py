"""Throw-away folders for the benchmarks: a whole studio (home, data, runs, Keras home) that touches nothing of the
user's, and for the scan benchmarks a data root holding N tiny files in class folders (no real images)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["TINY_PNG", "make_folder", "scratch_studio"]

TINY_PNG = bytes.fromhex("89504e470d0a1a0a")  # just the signature: counting must never open a file


def scratch_studio(prefix: str = "tlstudio-bench-") -> Path:
    """A fresh folder with home/, data/, runs/ and keras/, and the environment pointed at them (TLSTUDIO_HOME,
    TLSTUDIO_DATA_ROOT, TLSTUDIO_RUNS_DIR, KERAS_HOME), so a benchmark never reads or writes the user's studio."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    for variable, name in (("TLSTUDIO_HOME", "home"), ("TLSTUDIO_DATA_ROOT", "data"), ("TLSTUDIO_RUNS_DIR", "runs"),
                           ("KERAS_HOME", "keras")):
        (root / name).mkdir()
        os.environ[variable] = str(root / name)
    return root


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
