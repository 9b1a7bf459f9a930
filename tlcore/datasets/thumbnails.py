"""Thumbnails made on first view and kept on disk, so paging through a large dataset decodes each image once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tlcore.storage.images import BadImage, ImageInfo, inspect_image, thumbnail
from tlcore.storage.paths import cache_root

__all__ = ["THUMB_WIDTH", "thumbnail_path", "cached_thumbnail", "page_of", "describe"]

THUMB_WIDTH = 96


def thumbnail_path(image_path: Path, width: int = THUMB_WIDTH) -> Path:
    """Cache file for this image at this width; a changed file (size or mtime) gets a new one."""
    stat = image_path.stat()
    key = f"{image_path.resolve()}\t{stat.st_size}\t{stat.st_mtime_ns}\t{width}"
    return cache_root() / "thumbnails" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.png"


def cached_thumbnail(image_path: Path, width: int = THUMB_WIDTH) -> Path | None:
    """Path of the thumbnail PNG, made now if missing; None when the image cannot be decoded."""
    try:
        target = thumbnail_path(image_path, width)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            thumbnail(image_path, width).save(partial, format="PNG")
            os.replace(partial, target)
        return target
    except (BadImage, OSError):
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
        info: ImageInfo = inspect_image(image_path)
        details.update(width=info.width, height=info.height, mode=info.mode)
    except BadImage as error:
        details["problem"] = str(error)
    return details
