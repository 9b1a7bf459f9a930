"""A localisation task made here, for Grad-CAM: small digits pasted at random places on a larger noisy canvas, a
small CNN that names them, and how much of the heat sits inside each digit's box.

Shared by bench/gradcam_localisation.py (the figure) and tests/unit/inference/test_gradcam_localisation.py (the
check), so both measure exactly the same task. A test fixture, never shipped.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CANVAS", "DIGIT", "localisation_task", "small_cnn", "heat_ratio"]

CANVAS, DIGIT = 64, 16  # a 16 px digit covers 1/16 of a 64 px canvas


def localisation_task(digits: np.ndarray, labels: np.ndarray, seed: int):
    """Dark-ink digits (uint8 (n, h, w), enlarged to DIGIT px) on light noisy paper at random places.

    Returns:
        (images uint8 (n, CANVAS, CANVAS, 3), labels, boxes (n, 2): each digit's top-left (row, column)).
    """
    rng = np.random.default_rng(seed)
    images = rng.integers(190, 256, (len(digits), CANVAS, CANVAS)).astype(np.uint8)
    boxes = rng.integers(0, CANVAS - DIGIT + 1, (len(digits), 2))
    for image, digit, (row, column) in zip(images, digits, boxes):
        big = np.kron(digit, np.ones((DIGIT // digit.shape[0], DIGIT // digit.shape[1]))).astype(np.uint8)
        image[row:row + DIGIT, column:column + DIGIT] = np.minimum(image[row:row + DIGIT, column:column + DIGIT], big)
    return np.repeat(images[..., None], 3, axis=-1), labels, boxes


def small_cnn(classes: int):
    """64 px → maps of 64, 32, 16, 8 (`conv_8x8`) and 4 (`conv_4x4`) cells → max-pooled → softmax over `classes`."""
    import keras

    inputs = keras.Input((CANVAS, CANVAS, 3))
    x = keras.layers.Rescaling(-1 / 255.0, offset=1.0)(inputs)  # ink high, paper near 0
    for filters, name in ((16, "conv_64"), (32, "conv_32"), (48, "conv_16"), (64, "conv_8x8"), (64, "conv_4x4")):
        if name != "conv_64":
            x = keras.layers.MaxPooling2D()(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)(x)
    x = keras.layers.GlobalMaxPooling2D()(x)  # the digit is one small place: its strongest response counts
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))


def heat_ratio(heatmap: np.ndarray, box) -> float:
    """Share of the heat inside the digit's box over the box's share of the canvas (1: no better than even)."""
    row, column = box
    total = float(heatmap.sum())
    inside = float(heatmap[row:row + DIGIT, column:column + DIGIT].sum())
    return (inside / total) / (DIGIT * DIGIT / CANVAS ** 2) if total > 0 else 0.0
