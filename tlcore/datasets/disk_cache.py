"""Decoded, resized uint8 images of a file list kept on disk (tf.data snapshot under the studio cache), for datasets
too large for memory: epochs after the first, and later jobs on the same files, never decode again.

Keyed like the feature cache (each file's name, size and modification time, the image size, the decoding rule), so
a changed file or another size never reuses old pixels. Written to a temporary folder and renamed into place: a
reader never sees a half-written cache, and two jobs writing the same one both succeed. A disk without room for it
only costs the speed-up: the images are then decoded every epoch, and worker.log says why.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from tlcore.datasets.decode import native_enabled
from tlcore.storage.paths import cache_root

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["CACHE_VERSION", "images_folder", "image_cache_key", "disk_cached"]

CACHE_VERSION = 1  # bump when the decoding rule changes the pixels
_FREE_SPACE_MARGIN = 1.1  # snapshot overhead, and room left for everything else


def images_folder() -> Path:
    folder = cache_root() / "images"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def image_cache_key(root: Path, items: list[tuple[str, int]], image_size: int) -> str:
    """The files (name, size, modification time), the image size and the decoding rule; labels do not matter."""
    files = []
    for relative, _ in items:
        stat = (root / relative).stat()
        files.append((relative, stat.st_size, stat.st_mtime_ns))
    identity = {"root": str(root), "files": files, "image_size": image_size, "version": CACHE_VERSION,
                "native": native_enabled()}
    digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:24]
    return f"{image_size}px-{len(items)}-{digest}"


def disk_cached(decoded: Callable[[], "tf.data.Dataset"], key: str, count: int,
                image_size: int) -> "tf.data.Dataset":
    """The images `decoded()` gives (unbatched uint8, in file order), read back from disk; decoded and written only
    the first time (`decoded` is not even called when the cache is there: no header is read, nothing decoded)."""
    import tensorflow as tf

    target = images_folder() / key
    if not target.exists():
        images = decoded()
        needed = count * image_size * image_size * 3 * _FREE_SPACE_MARGIN
        free = shutil.disk_usage(target.parent).free
        if free < needed:
            print(f"Not caching decoded images on disk: {needed / 1e9:.1f} GB needed, {free / 1e9:.1f} GB free "
                  f"in {target.parent}. Images are decoded every epoch.", flush=True)
            return images
        tmp = target.with_name(f".{key}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        images.save(str(tmp))
        try:
            os.rename(tmp, target)
        except OSError:  # another job got there first with the same images
            shutil.rmtree(tmp, ignore_errors=True)
    return tf.data.Dataset.load(str(target))
