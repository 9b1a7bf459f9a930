"""Data augmentation as Keras preprocessing layers, placed inside the model so they are active only in training.

The Dataset page previews exactly `augmentation_layers(config, size)` called with `training=True`, so what a person sees is
what training does. Every layer here is a built-in Keras layer: a saved model loads without custom objects.
"""

from __future__ import annotations

from tlcore.config.augmentation import AugmentConfig

__all__ = ["augmentation_layers", "preview"]


def augmentation_layers(config: AugmentConfig, image_size: int | None = None):
    """A `keras.Sequential` of the enabled layers (the very object used by training and by previews).

    `image_size` is needed only for the crop: RandomCrop cuts a smaller window and Resizing scales it back, so the
    model keeps its input size. At inference RandomCrop passes the image through and Resizing to the same size
    leaves it unchanged, so prediction sees the whole image.
    """
    import keras

    layers = []
    if config.flip != "none":
        layers.append(keras.layers.RandomFlip(config.flip))
    if config.rotation > 0:
        layers.append(keras.layers.RandomRotation(config.rotation))
    if config.zoom > 0:
        layers.append(keras.layers.RandomZoom(config.zoom))
    if config.translation > 0:
        layers.append(keras.layers.RandomTranslation(config.translation, config.translation))
    if config.contrast > 0:
        layers.append(keras.layers.RandomContrast(config.contrast, value_range=(0, 255)))
    if config.brightness > 0:
        layers.append(keras.layers.RandomBrightness(config.brightness, value_range=(0, 255)))
    if config.crop > 0:
        if image_size is None:
            raise ValueError("RandomCrop needs the model's image size: pass image_size.")
        kept = max(1, round(image_size * (1 - config.crop)))
        layers.append(keras.layers.RandomCrop(kept, kept))
        layers.append(keras.layers.Resizing(image_size, image_size))
    return keras.Sequential(layers, name="augmentation")


def preview(image, config: AugmentConfig, count: int = 9, seed: int = 0) -> list:
    """`count` augmented copies of one RGB uint8 image, made by `augmentation_layers` called with training=True.

    One call per copy: some layers (RandomCrop) draw one transformation per batch, and each copy should show its own.
    Seeded, so the same seed shows the same grid and a new seed re-rolls it.
    """
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    layers = augmentation_layers(config, image.shape[0])
    batch = np.asarray(image, dtype="float32")[None]
    return [np.clip(np.asarray(layers(batch, training=True))[0], 0, 255).astype(np.uint8) for _ in range(count)]
