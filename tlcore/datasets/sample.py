"""The built-in offline dataset: scikit-learn's real handwritten digits written out as an ordinary image folder.

Written once under the data root so it goes through exactly the code path of a user's own folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tlcore.storage.paths import data_root

__all__ = ["SAMPLE_NAME", "sample_dataset_path"]

SAMPLE_NAME = "sample-digits"
_COMPLETE_MARKER = ".complete"


def sample_dataset_path() -> Path:
    """Folder of the built-in dataset, written on first use (1,797 PNGs, 8×8 greyscale, classes 0–9)."""
    folder = data_root() / SAMPLE_NAME
    if not (folder / _COMPLETE_MARKER).exists():
        _write_digits(folder)
    return folder


def _write_digits(folder: Path) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    for index, (pixels, target) in enumerate(zip(digits.images, digits.target)):
        class_dir = folder / str(int(target))
        class_dir.mkdir(parents=True, exist_ok=True)
        # Values are ink counts 0..16; white paper with dark ink reads as a handwritten digit.
        grey = (255 - np.round(pixels / 16.0 * 255.0)).astype(np.uint8)
        Image.fromarray(grey, mode="L").save(class_dir / f"digit_{index:04d}.png")
    (folder / _COMPLETE_MARKER).write_text("written by tlcore.datasets.sample\n")
