"""The one decoding rule of the tf.data pipeline: TensorFlow decodes the common files in the graph, Pillow the rest.

`tlcore.datasets.images.load_array` defines the pixels (RGB, alpha on white, bilinear squash-resize, no EXIF
rotation). Pillow inside `tf.numpy_function` holds the Python lock, so on a fast accelerator it starves the model;
TensorFlow's own decoders do not. A file goes native only when TensorFlow gives the same pixels within
`NATIVE_TOLERANCE` (tests/unit/datasets/test_decode.py checks every native kind against `load_array`): 8-bit JPEG
(RGB or grey, no EXIF orientation), PNG (RGB, grey, palette, with or without alpha), BMP (RGB) and GIF (palette or
grey, no transparency), all within the pixel budget. Everything else (CMYK, 16-bit, WebP, TIFF, EXIF-rotated JPEGs,
transparent GIFs, huge images a JPEG draft would shrink) keeps Pillow. The choice is made per file from its header
(Pillow's lazy open reads no pixels), so one folder may mix both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from tlcore.datasets.images import load_array, pixel_budget

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["PILLOW", "NATIVE", "NATIVE_ALPHA", "NATIVE_JPEG", "NATIVE_TOLERANCE", "native_enabled", "decoder_of", "decoders_of",
           "decode_in_graph"]

# How one file is decoded: Pillow; TensorFlow (PNG, BMP, GIF) as RGB; as RGBA composited on white; JPEG with the
# accurate integer DCT Pillow's libjpeg uses (decode_image would take TensorFlow's faster, less exact default).
PILLOW, NATIVE, NATIVE_ALPHA, NATIVE_JPEG = 0, 1, 2, 3
# Largest difference from `load_array` on any pixel channel, and on average: the decoders are both libjpeg-turbo /
# libpng; the rest is the resize (TensorFlow's antialiased bilinear vs Pillow's) and rounding of alpha on white.
NATIVE_TOLERANCE = {"max": 2, "mean": 0.5}  # measured: max 1, mean <= 0.2 (tests/unit/datasets/test_decode.py)

_NATIVE_MODES = {"JPEG": {"RGB", "L"}, "PNG": {"RGB", "L", "P", "RGBA", "LA"}, "BMP": {"RGB"}, "GIF": {"P", "L"}}
_EXIF_ORIENTATION = 0x0112


def native_enabled() -> bool:
    """TensorFlow decoding is on unless `TLSTUDIO_NATIVE_DECODE=0` (an escape hatch: everything through Pillow)."""
    return os.environ.get("TLSTUDIO_NATIVE_DECODE", "1") != "0"


def decoder_of(path: str | os.PathLike) -> int:
    """PILLOW, NATIVE or NATIVE_ALPHA for one file, from its header only (no pixel is decoded)."""
    try:
        with Image.open(path) as image:
            modes = _NATIVE_MODES.get(image.format or "")
            if not modes or image.mode not in modes or image.width * image.height > pixel_budget():
                return PILLOW
            if image.format == "JPEG":  # an EXIF-rotated one to Pillow: should the rule ever rotate, both agree
                return NATIVE_JPEG if image.getexif().get(_EXIF_ORIENTATION, 1) == 1 else PILLOW
            if image.format == "PNG" and _png_bit_depth(path) != 8 and image.mode != "P":
                return PILLOW  # 16-bit: Pillow and TensorFlow reduce it differently
            transparent = "transparency" in image.info
            if image.format == "GIF":
                return PILLOW if transparent else NATIVE
            if image.mode in ("RGBA", "LA") or transparent:
                return NATIVE_ALPHA
            return NATIVE
    except Exception:  # noqa: BLE001 - unreadable headers are Pillow's to report, with its clear message
        return PILLOW


def decoders_of(paths: list[str]) -> np.ndarray:
    """`decoder_of` for each path (all PILLOW when native decoding is off), as int32 for the pipeline."""
    if not native_enabled():
        return np.full(len(paths), PILLOW, dtype=np.int32)
    return np.asarray([decoder_of(path) for path in paths], dtype=np.int32)


def _png_bit_depth(path) -> int:
    with open(path, "rb") as handle:
        header = handle.read(25)
    return header[24] if len(header) == 25 else 0


def decode_in_graph(path: "tf.Tensor", decoder: "tf.Tensor", image_size: int) -> "tf.Tensor":
    """(image_size, image_size, 3) uint8 for one file: TensorFlow's decoder or Pillow's, as `decoder` says."""
    import tensorflow as tf

    def pillow():
        image = tf.numpy_function(lambda p: load_array(Path(os.fsdecode(np.asarray(p).item())), image_size), [path], tf.uint8,
                                  stateful=False)
        return tf.reshape(image, (image_size, image_size, 3))

    def native(channels: int, jpeg: bool = False):
        def decode():
            data = tf.io.read_file(path)
            image = tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE") if jpeg else \
                tf.io.decode_image(data, channels=channels, expand_animations=False)
            image = tf.cast(image, tf.float32)
            if channels == 4:  # alpha on white, as Pillow's alpha_composite over a white background
                alpha = image[..., 3:] / 255.0
                image = image[..., :3] * alpha + 255.0 * (1.0 - alpha)
                image = tf.round(image)
            size = tf.shape(image)[:2]
            image = tf.cond(tf.reduce_all(size == image_size), lambda: image,
                            lambda: tf.image.resize(image, (image_size, image_size), "bilinear", antialias=True))
            image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
            return tf.reshape(image, (image_size, image_size, 3))  # a static shape for the model's layers

        return decode

    image = tf.switch_case(decoder, [pillow, native(3), native(4), native(3, jpeg=True)])
    image.set_shape((image_size, image_size, 3))
    return image
