"""Data augmentation as Keras preprocessing layers, placed inside the model so they are active only in training."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AugmentConfig:
    """Strengths are fractions as the Keras layers take them (rotation 0.1 = ±10% of a full turn = ±36°)."""

    flip: str = "horizontal"  # "horizontal", "vertical", "horizontal_and_vertical" or "none"
    rotation: float = 0.1
    zoom: float = 0.1

    def build(self):
        """A `keras.Sequential` of the enabled layers (the very object used by training and by previews)."""
        import keras

        layers = []
        if self.flip != "none":
            layers.append(keras.layers.RandomFlip(self.flip))
        if self.rotation > 0:
            layers.append(keras.layers.RandomRotation(self.rotation))
        if self.zoom > 0:
            layers.append(keras.layers.RandomZoom(self.zoom))
        return keras.Sequential(layers, name="augmentation")
