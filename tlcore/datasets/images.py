"""Decode any image file into the same RGB uint8 array for preview, training, evaluation and prediction.

Every decode stays within a pixel budget (`TLSTUDIO_MAX_IMAGE_PIXELS`, below Pillow's own limit): a 10 KB PNG can
claim 89 megapixels and cost 1.5 GB to decode in the server process. The size is read from the header before any
pixel is decoded; a large JPEG is decoded at a reduced scale instead (its decoder does that cheaply), anything else
over the budget is refused.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = [
    "IMAGE_EXTENSIONS", "ZERO_BYTES", "TRUNCATED", "NOT_AN_IMAGE", "UNSUPPORTED_MODE", "DECOMPRESSION_BOMB",
    "TOO_SMALL", "TOO_MANY_PIXELS", "UNREADABLE", "MIN_SIDE", "SUPPORTED_MODES", "DEFAULT_MAX_PIXELS",
    "ImageSource", "BadImage", "ImageInfo", "pixel_budget", "open_rgb", "inspect_image", "load_array", "is_image_name",
    "thumbnail"
]

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


# Why a file cannot be used, as stable codes the health report groups by (the message says it in a user's words).
ZERO_BYTES = "zero bytes"
TRUNCATED = "truncated or corrupt"
NOT_AN_IMAGE = "not an image"
UNSUPPORTED_MODE = "unsupported mode"
DECOMPRESSION_BOMB = "decompression bomb"
TOO_SMALL = "too small"
TOO_MANY_PIXELS = "too many pixels"
UNREADABLE = "cannot be read"

DEFAULT_MAX_PIXELS = 4096 * 4096  # 16.8 Mpx: ~120 MiB to decode as RGB (~300 MiB with alpha); Pillow allows 89 Mpx
ImageSource = str | os.PathLike | bytes | BinaryIO  # a path, the file's bytes, or an open binary file

MIN_SIDE = 8  # px; the built-in digits are 8×8, anything smaller carries no usable picture
# Modes with a defined 0..255 (or 16-bit) scale that `_to_rgb` converts; 32-bit float images ("F") have no fixed
# scale, so converting them would silently give black or white pictures.
SUPPORTED_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LAB", "HSV",
                             "I", "I;16", "I;16B", "I;16L", "I;16N"})


class BadImage(ValueError):
    """The bytes are not a readable image; the message says why in a user's words, `reason` is one of the codes."""

    def __init__(self, message: str, reason: str = TRUNCATED):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    mode: str  # as stored in the file, before conversion to RGB


def pixel_budget() -> int:
    """Most pixels one decode may produce (env `TLSTUDIO_MAX_IMAGE_PIXELS`, read on each call so tests can set it)."""
    return int(os.environ.get("TLSTUDIO_MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS))


def open_rgb(source: ImageSource) -> Image.Image:
    """Open an image and convert it to 8-bit RGB the one way the whole app uses.

    Alpha is composited on white (a transparent background reads as paper, not black), 16-bit greyscale is scaled
    down rather than clipped, and palette/CMYK images are converted by Pillow.
    """
    return _decode(source)[0]


def inspect_image(source: ImageSource) -> ImageInfo:
    """Decode fully (as training will) and return size and stored mode; BadImage also for images under MIN_SIDE px."""
    _, info = _decode(source)
    if min(info.width, info.height) < MIN_SIDE:
        raise BadImage(f"too small ({info.width}×{info.height} px; at least {MIN_SIDE} px per side)", TOO_SMALL)
    return info


def _decode(source: ImageSource) -> tuple[Image.Image, ImageInfo]:
    if isinstance(source, (bytes, bytearray)):
        if len(source) == 0:
            raise BadImage("empty file (0 bytes)", ZERO_BYTES)
        handle = io.BytesIO(source)
    elif hasattr(source, "read"):
        source.seek(0, os.SEEK_END)
        if source.tell() == 0:
            raise BadImage("empty file (0 bytes)", ZERO_BYTES)
        source.seek(0)
        handle = source
    else:
        path = Path(source)
        if path.stat().st_size == 0:
            raise BadImage("empty file (0 bytes)", ZERO_BYTES)
        handle = path
    try:
        with warnings.catch_warnings():
            # Between MAX_IMAGE_PIXELS and twice that Pillow only warns, then decodes gigabytes: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(handle) as image:
                info = ImageInfo(image.width, image.height, image.mode)
                if image.mode not in SUPPORTED_MODES:
                    raise BadImage(f"unsupported colour mode {image.mode} (no fixed 0..255 scale to convert to RGB)",
                                   UNSUPPORTED_MODE)
                _fit_budget(image)
                image.load()
                return _to_rgb(image), info
    except UnidentifiedImageError as error:
        raise BadImage("not an image (Pillow cannot identify the format)", NOT_AN_IMAGE) from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise BadImage(f"image too large to decode safely, a possible decompression bomb ({error})",
                       DECOMPRESSION_BOMB) from error
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, BadImage):
            raise
        raise BadImage(f"truncated or corrupt image ({error})", TRUNCATED) from error


def _fit_budget(image: Image.Image) -> None:
    """Refuse an image over the pixel budget before decoding it, or have a JPEG decoded at 1/2, 1/4 or 1/8 scale."""
    budget = pixel_budget()
    pixels = image.width * image.height
    if pixels <= budget:
        return
    if image.format == "JPEG":
        scale = 2 ** math.ceil(math.log2(math.sqrt(pixels / budget)))  # the decoder reduces by powers of two
        if scale <= 8:
            image.draft(image.mode, (math.ceil(image.width / scale), math.ceil(image.height / scale)))
            if image.width * image.height <= budget:
                return
    raise BadImage(f"too many pixels to decode on this server ({image.width:,}×{image.height:,} = {pixels:,} pixels; "
                   f"at most {budget:,} are decoded here, the server's pixel limit)", TOO_MANY_PIXELS)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255.0, 0, 255).astype(np.uint8), mode="L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_array(source: ImageSource, image_size: int) -> np.ndarray:
    """RGB uint8 array of shape (image_size, image_size, 3), resized bilinearly without keeping aspect ratio.

    This is the same squash-resize `keras.utils.image_dataset_from_directory` does by default.
    """
    image = open_rgb(source)
    if image.size != (image_size, image_size):
        image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def is_image_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def thumbnail(source: ImageSource, width: int = 64) -> Image.Image:
    """A small RGB preview; tiny images (8×8 digits) are enlarged with hard edges instead of blurred."""
    image = open_rgb(source)
    scale = width // max(image.size)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    image.thumbnail((width, width))
    return image
