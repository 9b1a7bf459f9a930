"""Decode any image file into the same RGB uint8 array for preview, training, evaluation and prediction."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


class BadImage(ValueError):
    """The bytes are not a readable image; the message says why in a user's words."""


def open_rgb(source: str | os.PathLike | bytes) -> Image.Image:
    """Open an image and convert it to 8-bit RGB the one way the whole app uses.

    Alpha is composited on white (a transparent background reads as paper, not black), 16-bit greyscale is scaled
    down rather than clipped, and palette/CMYK images are converted by Pillow.
    """
    if isinstance(source, (bytes, bytearray)):
        if len(source) == 0:
            raise BadImage("empty file (0 bytes)")
        handle = io.BytesIO(source)
    else:
        path = Path(source)
        if path.stat().st_size == 0:
            raise BadImage("empty file (0 bytes)")
        handle = path
    try:
        with Image.open(handle) as image:
            image.load()
            return _to_rgb(image)
    except UnidentifiedImageError as error:
        raise BadImage("not an image (Pillow cannot identify the format)") from error
    except Image.DecompressionBombError as error:
        raise BadImage(f"image too large to decode safely ({error})") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise BadImage(f"truncated or corrupt image ({error})") from error


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


def load_array(source: str | os.PathLike | bytes, image_size: int) -> np.ndarray:
    """RGB uint8 array of shape (image_size, image_size, 3), resized bilinearly without keeping aspect ratio.

    This is the same squash-resize `keras.utils.image_dataset_from_directory` does by default.
    """
    image = open_rgb(source)
    if image.size != (image_size, image_size):
        image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def is_image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS and not name.startswith(".")


def thumbnail(source: str | os.PathLike | bytes, width: int = 64) -> Image.Image:
    """A small RGB preview; tiny images (8×8 digits) are enlarged with hard edges instead of blurred."""
    image = open_rgb(source)
    scale = width // max(image.size)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    image.thumbnail((width, width))
    return image
