"""Thumbnails made on first view and kept on disk, so paging through a large dataset decodes each image once.

Every image is opened the one checked way (a regular file inside the data root) and decoded within the server's
pixel budget, so a page rerun can never decode a decompression bomb, however many times it draws the grid.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PIL import Image

from tlcore.datasets.scan import open_dataset_file
from tlcore.datasets.images import BadImage, ImageInfo, inspect_image, open_rgb, thumbnail
from tlcore.storage.paths import cache_root

__all__ = ["THUMB_WIDTH", "thumbnail_path", "cached_thumbnail", "page_of", "describe", "large_view"]

THUMB_WIDTH = 96


def thumbnail_path(image_path: Path, width: int = THUMB_WIDTH) -> Path:
    """Cache file for this image at this width; a changed file (size or mtime) gets a new one."""
    stat = image_path.stat()
    key = f"{image_path.resolve()}\t{stat.st_size}\t{stat.st_mtime_ns}\t{width}"
    return cache_root() / "thumbnails" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.png"


def cached_thumbnail(image_path: Path, width: int = THUMB_WIDTH) -> Path | None:
    """Path of the thumbnail PNG, made now if missing; None when the image cannot be decoded (or not be kept: a full
    disk only costs the cache, and the partial file is removed)."""
    partial = None
    try:
        target = thumbnail_path(image_path, width)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with open_dataset_file(image_path) as handle:
                thumbnail(handle, width).save(partial, format="PNG")
            os.replace(partial, target)
        return target
    except (BadImage, OSError, RuntimeError):
        if partial is not None:
            partial.unlink(missing_ok=True)
        return None


def page_of(items: list, page: int, per_page: int) -> tuple[list, int]:
    """The items on 1-based `page` (clamped) and the number of pages."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(1, page), pages)
    return items[(page - 1) * per_page: page * per_page], pages


def describe(image_path: Path) -> dict:
    """What the large view shows: file name, bytes, pixel size, stored colour mode, or why it cannot be read."""
    details = {"name": image_path.name, "bytes": image_path.stat().st_size}
    try:
        with open_dataset_file(image_path) as handle:
            info: ImageInfo = inspect_image(handle)
        details.update(width=info.width, height=info.height, mode=info.mode)
    except BadImage as error:
        details["problem"] = str(error)
    except OSError as error:
        details["problem"] = f"cannot be read ({error.strerror or error})"
    return details


def large_view(image_path: Path) -> Image.Image:
    """The image as RGB for the large view, opened the same checked way as thumbnails.

    Raises:
        BadImage: it cannot be decoded, is over the pixel budget, or is not a regular file inside the data root.
        OSError: it cannot be opened.
    """
    with open_dataset_file(image_path) as handle:
        return open_rgb(handle)
