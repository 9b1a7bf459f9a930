"""tf.data input pipelines over a split's file lists, decoded by the one rule (`tlcore.datasets.decode`): TensorFlow's
own decoders in parallel for the common files, Pillow (as everywhere else in the app) for the rest.

Decoded, resized uint8 images are cached: in memory when they fit (`TLSTUDIO_MEMORY_CACHE_BYTES`, 2 GiB by
default), else on disk under the studio cache (`tlcore.datasets.disk_cache`), so only the first epoch decodes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tlcore.datasets.decode import PILLOW, decode_in_graph, decoders_of
from tlcore.datasets.disk_cache import disk_cached, image_cache_key
from tlcore.datasets.images import load_array

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["CACHE_MODES", "memory_cache_limit", "make_dataset", "load_arrays"]

CACHE_MODES = ("auto", "memory", "disk", "none")
_IN_MEMORY_CACHE_LIMIT_BYTES = 2 * 1024**3


def memory_cache_limit() -> int:
    """Bytes of decoded images kept in memory at most (env `TLSTUDIO_MEMORY_CACHE_BYTES`); larger go to disk."""
    return int(os.environ.get("TLSTUDIO_MEMORY_CACHE_BYTES", _IN_MEMORY_CACHE_LIMIT_BYTES))


def make_dataset(root: Path, items: list[tuple[str, int]], image_size: int, batch_size: int,
                 binary: bool, shuffle: bool = False, seed: int = 0, *, native: bool = True,
                 cache: str = "auto") -> "tf.data.Dataset":
    """Batches of (uint8 images, labels), decoded once and cached.

    Args:
        native: decode JPEG/PNG/BMP/GIF with TensorFlow where that gives Pillow's pixels; False: Pillow for all.
        cache: "auto" (memory when it fits, else disk), "memory", "disk" or "none".
    """
    import tensorflow as tf

    if cache not in CACHE_MODES:
        raise ValueError(f"Unknown cache '{cache}'. Choose one of: {', '.join(CACHE_MODES)}.")
    if cache == "auto":
        cache = "memory" if len(items) * image_size * image_size * 3 <= memory_cache_limit() else "disk"

    def decoded() -> "tf.data.Dataset":
        paths = [str(root / relative) for relative, _ in items]
        decoders = decoders_of(paths) if native else np.full(len(paths), PILLOW, dtype=np.int32)
        return tf.data.Dataset.from_tensor_slices((paths, decoders)).map(
            lambda path, decoder: decode_in_graph(path, decoder, image_size), num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True)

    if cache == "disk" and items:
        images = disk_cached(decoded, image_cache_key(root, items, image_size), len(items), image_size)
    else:
        images = decoded().cache() if cache == "memory" else decoded()
    labels = np.asarray([label for _, label in items], dtype=np.float32 if binary else np.int32)
    labels = labels.reshape(-1, 1) if binary else labels
    dataset = tf.data.Dataset.zip(images, tf.data.Dataset.from_tensor_slices(labels))
    if shuffle:
        dataset = dataset.shuffle(min(len(items), 10_000), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def load_arrays(root: Path, items: list[tuple[str, int]], image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """All images of a (small) split as one array, for evaluation and tests."""
    images = np.stack([load_array(root / relative, image_size) for relative, _ in items]) if items else \
        np.zeros((0, image_size, image_size, 3), np.uint8)
    return images, np.asarray([label for _, label in items], dtype=np.int64)
