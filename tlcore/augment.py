"""Data augmentation as Keras preprocessing layers, placed inside the model so they are active only in training.

The Dataset page previews exactly `AugmentConfig.build(size)` called with `training=True`, so what a person sees is
what training does. Every layer here is a built-in Keras layer: a saved model loads without custom objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical", "none")


@dataclass
class AugmentConfig:
    """Strengths are fractions as the Keras layers take them (rotation 0.1 = ±10% of a full turn = ±36°).

    Fields added after the first release default to 0 (off), so older config.json files load unchanged.
    """

    flip: str = "horizontal"  # "horizontal", "vertical", "horizontal_and_vertical" or "none"
    rotation: float = 0.1
    zoom: float = 0.1
    translation: float = 0.0  # shift up to this fraction of height and width
    contrast: float = 0.0  # contrast factor range 1 ± contrast
    brightness: float = 0.0  # add up to ± this fraction of the 0..255 range
    crop: float = 0.0  # cut up to this fraction off the image, then resize back to the model's input size

    def __post_init__(self) -> None:
        if self.flip not in FLIP_MODES:
            raise ValueError(f"Unknown flip mode '{self.flip}'; expected one of {', '.join(FLIP_MODES)}.")
        for name in ("rotation", "zoom", "translation", "contrast", "brightness", "crop"):
            value = getattr(self, name)
            if not 0 <= float(value) < 1:
                raise ValueError(f"Augmentation '{name}' must be between 0 and 1 (got {value}).")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "AugmentConfig":
        """Unknown keys are ignored so a config written by a newer version still loads."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def describe(self) -> str:
        parts = [f"flip {self.flip}"] if self.flip != "none" else []
        parts += [f"{name} {getattr(self, name):g}" for name in
                  ("rotation", "zoom", "translation", "contrast", "brightness", "crop") if getattr(self, name) > 0]
        return ", ".join(parts) or "none"

    def build(self, image_size: int | None = None):
        """A `keras.Sequential` of the enabled layers (the very object used by training and by previews).

        `image_size` is needed only for the crop: RandomCrop cuts a smaller window and Resizing scales it back, so the
        model keeps its input size. At inference RandomCrop passes the image through and Resizing to the same size
        leaves it unchanged, so prediction sees the whole image.
        """
        import keras

        layers = []
        if self.flip != "none":
            layers.append(keras.layers.RandomFlip(self.flip))
        if self.rotation > 0:
            layers.append(keras.layers.RandomRotation(self.rotation))
        if self.zoom > 0:
            layers.append(keras.layers.RandomZoom(self.zoom))
        if self.translation > 0:
            layers.append(keras.layers.RandomTranslation(self.translation, self.translation))
        if self.contrast > 0:
            layers.append(keras.layers.RandomContrast(self.contrast, value_range=(0, 255)))
        if self.brightness > 0:
            layers.append(keras.layers.RandomBrightness(self.brightness, value_range=(0, 255)))
        if self.crop > 0:
            if image_size is None:
                raise ValueError("RandomCrop needs the model's image size: call build(image_size).")
            kept = max(1, round(image_size * (1 - self.crop)))
            layers.append(keras.layers.RandomCrop(kept, kept))
            layers.append(keras.layers.Resizing(image_size, image_size))
        return keras.Sequential(layers, name="augmentation")


def preview(image, config: AugmentConfig, count: int = 9, seed: int = 0) -> list:
    """`count` augmented copies of one RGB uint8 image, made by `config.build()` called with training=True.

    One call per copy: some layers (RandomCrop) draw one transformation per batch, and each copy should show its own.
    Seeded, so the same seed shows the same grid and a new seed re-rolls it.
    """
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    layers = config.build(image.shape[0])
    batch = np.asarray(image, dtype="float32")[None]
    return [np.clip(np.asarray(layers(batch, training=True))[0], 0, 255).astype(np.uint8) for _ in range(count)]
