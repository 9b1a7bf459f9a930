"""tf.data input pipelines over a split's file lists; images decoded by `tlcore.storage.images`, like everywhere else."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tlcore.storage.images import load_array

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["make_dataset", "load_arrays"]

_IN_MEMORY_CACHE_LIMIT_BYTES = 2 * 1024**3


def make_dataset(root: Path, items: list[tuple[str, int]], image_size: int, batch_size: int,
                 binary: bool, shuffle: bool = False, seed: int = 0) -> "tf.data.Dataset":
    """Batches of (uint8 images, labels); decoded once and cached in memory as uint8 when that fits."""
    import tensorflow as tf

    paths = [str(root / relative) for relative, _ in items]
    labels = np.asarray([label for _, label in items], dtype=np.float32 if binary else np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((paths, labels))

    def decode(path, label):
        image = tf.numpy_function(lambda p: load_array(p.decode(), image_size), [path], tf.uint8, stateful=False)
        image.set_shape((image_size, image_size, 3))
        return image, (tf.reshape(label, (1,)) if binary else label)

    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if len(items) * image_size * image_size * 3 <= _IN_MEMORY_CACHE_LIMIT_BYTES:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(min(len(items), 10_000), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def load_arrays(root: Path, items: list[tuple[str, int]], image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """All images of a (small) split as one array, for evaluation and tests."""
    images = np.stack([load_array(root / relative, image_size) for relative, _ in items]) if items else \
        np.zeros((0, image_size, image_size, 3), np.uint8)
    return images, np.asarray([label for _, label in items], dtype=np.int64)
